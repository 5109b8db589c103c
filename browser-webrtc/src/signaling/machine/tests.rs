use super::*;

const OFFER: &str = "v=0\r\no=- 1 2 IN IP4 127.0.0.1\r\n";
const ANSWER: &str = "v=0\r\no=- 2 2 IN IP4 127.0.0.1\r\n";

fn ms(n: u64) -> Duration {
    Duration::from_millis(n)
}

fn drain(machine: &mut Signaling) -> Vec<Output> {
    std::iter::from_fn(|| machine.poll_output()).collect()
}

fn candidate(n: u8) -> IceCandidate {
    IceCandidate {
        candidate: format!("candidate:{n} 1 udp 2122260223 10.213.0.{n} 5000{n} typ host"),
        sdp_mid: Some("0".into()),
        sdp_m_line_index: Some(0),
        username_fragment: None,
    }
}

fn message_bytes(kind: MessageType, data: &str) -> Vec<u8> {
    encode(&Message::new(kind, data)).unwrap()
}

fn failed(outputs: &[Output]) -> Option<&SignalingError> {
    outputs.iter().find_map(|o| match o {
        Output::Failed(error) => Some(error),
        _ => None,
    })
}

/// Decodes every `Send` into messages.
fn sent(outputs: &[Output]) -> Vec<Message> {
    let mut decoder = Decoder::new();
    outputs
        .iter()
        .filter_map(|o| match o {
            Output::Send(bytes) => decoder.decode(&mut bytes.as_slice()).unwrap(),
            _ => None,
        })
        .collect()
}

/// A dialer that sent its offer and is waiting for the answer.
fn dialer_awaiting_answer() -> Signaling {
    let mut dialer = Signaling::new(Role::Dialer, ms(0), Timeouts::default());
    assert_eq!(drain(&mut dialer), [Output::Action(Action::CreateOffer)]);
    dialer.handle_offer_created(ms(1), OFFER.into());
    let outputs = drain(&mut dialer);
    assert_eq!(
        outputs,
        [
            Output::Send(message_bytes(MessageType::SdpOffer, OFFER)),
            Output::Action(Action::SetLocalDescription {
                kind: SdpKind::Offer,
                sdp: OFFER.into()
            }),
        ],
        "the offer is written before setLocalDescription, so it precedes every candidate"
    );
    assert_eq!(dialer.step(), Step::ReadAnswer);
    dialer
}

#[test]
fn dialer_runs_the_whole_sequence() {
    let mut dialer = dialer_awaiting_answer();
    dialer.handle_local_candidate(ms(2), Some(candidate(1)));
    dialer.handle_local_candidate(ms(2), None);
    assert_eq!(
        sent(&drain(&mut dialer)),
        [Message::new(
            MessageType::IceCandidate,
            candidate(1).to_json()
        )]
    );
    // The answer and a candidate arrive in one chunk, before setRemoteDescription resolved.
    let mut bytes = message_bytes(MessageType::SdpAnswer, ANSWER);
    bytes.extend(message_bytes(
        MessageType::IceCandidate,
        &candidate(2).to_json(),
    ));
    dialer.handle_bytes(ms(3), &bytes);
    assert_eq!(
        drain(&mut dialer),
        [Output::Action(Action::SetRemoteDescription {
            kind: SdpKind::Answer,
            sdp: ANSWER.into()
        })]
    );
    dialer.handle_remote_description_set(ms(4));
    assert_eq!(
        drain(&mut dialer),
        [Output::Action(Action::AddIceCandidate(candidate(2)))]
    );
    assert_eq!(dialer.step(), Step::Connect);
    dialer.handle_connection_state(ms(5), ConnectionState::Connecting);
    dialer.handle_connection_state(ms(6), ConnectionState::Connected);
    assert_eq!(dialer.step(), Step::CloseInitChannel);
    assert!(drain(&mut dialer).is_empty(), "init is not open yet");
    dialer.handle_local_candidate(ms(6), Some(candidate(3)));
    assert!(
        drain(&mut dialer).is_empty(),
        "no candidates once connected"
    );
    dialer.handle_init_channel_open(ms(7));
    assert_eq!(
        drain(&mut dialer),
        [Output::Action(Action::CloseInitChannel)]
    );
    dialer.handle_init_channel_closed(ms(8));
    assert_eq!(
        drain(&mut dialer),
        [
            Output::Action(Action::CloseSignalingStream),
            Output::Connected
        ]
    );
    assert!(dialer.is_done());
    assert_eq!(dialer.poll_timeout(), None);
}

/// A js-libp2p listener closes the inbound `init` on arrival: the dialer may see it close
/// without having seen it open, before or after `connected`; either way the sequence ends
/// without asking to close it again.
#[test]
fn init_closed_by_the_peer_completes_the_dialer() {
    for close_first in [true, false] {
        let mut dialer = dialer_awaiting_answer();
        dialer.handle_bytes(ms(2), &message_bytes(MessageType::SdpAnswer, ANSWER));
        dialer.handle_remote_description_set(ms(3));
        drain(&mut dialer);
        if close_first {
            dialer.handle_init_channel_closed(ms(4));
            assert!(drain(&mut dialer).is_empty(), "not connected yet");
            dialer.handle_connection_state(ms(5), ConnectionState::Connected);
        } else {
            dialer.handle_connection_state(ms(4), ConnectionState::Connected);
            assert!(drain(&mut dialer).is_empty());
            dialer.handle_init_channel_closed(ms(5));
        }
        assert_eq!(
            drain(&mut dialer),
            [
                Output::Action(Action::CloseSignalingStream),
                Output::Connected
            ]
        );
    }
}

#[test]
fn listener_runs_the_whole_sequence() {
    let mut listener = Signaling::new(Role::Listener, ms(0), Timeouts::default());
    assert!(drain(&mut listener).is_empty());
    assert_eq!(listener.step(), Step::ReadOffer);
    // Offer, end-of-candidates as `null`, a candidate, one byte at a time.
    let mut bytes = message_bytes(MessageType::SdpOffer, OFFER);
    bytes.extend(message_bytes(
        MessageType::IceCandidate,
        &candidate(1).to_json(),
    ));
    bytes.extend(message_bytes(MessageType::IceCandidate, "null"));
    for byte in &bytes {
        listener.handle_bytes(ms(1), std::slice::from_ref(byte));
    }
    assert_eq!(
        drain(&mut listener),
        [Output::Action(Action::SetRemoteDescription {
            kind: SdpKind::Offer,
            sdp: OFFER.into()
        })]
    );
    // A local candidate cannot come before the answer is sent; if one does it waits.
    listener.handle_local_candidate(ms(2), Some(candidate(9)));
    listener.handle_remote_description_set(ms(2));
    assert_eq!(
        drain(&mut listener),
        [
            Output::Action(Action::CreateAnswer),
            Output::Action(Action::AddIceCandidate(candidate(1))),
            Output::Action(Action::AddEndOfCandidates),
        ]
    );
    listener.handle_answer_created(ms(3), ANSWER.into());
    let outputs = drain(&mut listener);
    assert_eq!(
        sent(&outputs),
        [
            Message::new(MessageType::SdpAnswer, ANSWER),
            Message::new(MessageType::IceCandidate, candidate(9).to_json())
        ]
    );
    assert!(
        outputs.contains(&Output::Action(Action::SetLocalDescription {
            kind: SdpKind::Answer,
            sdp: ANSWER.into()
        }))
    );
    listener.handle_stream_end(ms(4));
    listener.handle_connection_state(ms(5), ConnectionState::Disconnected);
    assert!(
        drain(&mut listener).is_empty(),
        "stream end after the exchange and `disconnected` are not terminal"
    );
    listener.handle_connection_state(ms(6), ConnectionState::Connected);
    assert_eq!(
        drain(&mut listener),
        [
            Output::Action(Action::CloseSignalingStream),
            Output::Connected
        ]
    );
}

#[test]
fn every_end_of_candidates_form_becomes_one_action_and_bad_candidates_are_skipped() {
    let mut dialer = dialer_awaiting_answer();
    dialer.handle_bytes(ms(2), &message_bytes(MessageType::SdpAnswer, ANSWER));
    dialer.handle_remote_description_set(ms(3));
    drain(&mut dialer);
    for data in ["", "null", "\"\"", r#"{"candidate":""}"#] {
        dialer.handle_bytes(ms(4), &message_bytes(MessageType::IceCandidate, data));
        assert_eq!(
            drain(&mut dialer),
            [Output::Action(Action::AddEndOfCandidates)],
            "{data:?}"
        );
    }
    dialer.handle_bytes(
        ms(4),
        &message_bytes(MessageType::IceCandidate, "{not json"),
    );
    assert_eq!(
        drain(&mut dialer),
        [Output::IgnoredCandidate(CandidateError::Json(1))]
    );
    dialer.handle_bytes(
        ms(4),
        &message_bytes(MessageType::IceCandidate, &candidate(4).to_json()),
    );
    assert_eq!(
        drain(&mut dialer),
        [Output::Action(Action::AddIceCandidate(candidate(4)))]
    );
}

fn assert_fails(machine: &mut Signaling, expected: SignalingError) {
    let outputs = drain(machine);
    assert_eq!(
        outputs[outputs.len() - 3..],
        [
            Output::Action(Action::ResetSignalingStream),
            Output::Action(Action::ClosePeerConnection),
            Output::Failed(expected),
        ]
    );
    assert!(machine.is_done());
    // Nothing happens after a failure.
    machine.handle_bytes(ms(99), &message_bytes(MessageType::SdpAnswer, ANSWER));
    machine.handle_connection_state(ms(99), ConnectionState::Connected);
    machine.handle_timeout(ms(1_000_000));
    assert!(drain(machine).is_empty());
}

#[test]
fn protocol_violations_fail_with_their_step() {
    let mut listener = Signaling::new(Role::Listener, ms(0), Timeouts::default());
    listener.handle_bytes(ms(1), &message_bytes(MessageType::IceCandidate, "null"));
    assert_fails(
        &mut listener,
        SignalingError::UnexpectedMessage {
            step: Step::ReadOffer,
            got: MessageType::IceCandidate,
        },
    );

    let mut dialer = dialer_awaiting_answer();
    dialer.handle_bytes(ms(1), &message_bytes(MessageType::SdpOffer, OFFER));
    assert_fails(
        &mut dialer,
        SignalingError::UnexpectedMessage {
            step: Step::ReadAnswer,
            got: MessageType::SdpOffer,
        },
    );

    let mut dialer = dialer_awaiting_answer();
    dialer.handle_bytes(ms(1), &message_bytes(MessageType::SdpAnswer, ANSWER));
    dialer.handle_bytes(ms(1), &message_bytes(MessageType::SdpAnswer, ANSWER));
    assert_fails(
        &mut dialer,
        SignalingError::UnexpectedMessage {
            step: Step::SetRemoteDescription,
            got: MessageType::SdpAnswer,
        },
    );

    let mut dialer = dialer_awaiting_answer();
    dialer.handle_bytes(ms(1), &message_bytes(MessageType::SdpAnswer, ""));
    assert_fails(&mut dialer, SignalingError::EmptySdp(Step::ReadAnswer));

    let mut dialer = dialer_awaiting_answer();
    dialer.handle_bytes(ms(1), &[0x02, 0x08, 0x07]);
    assert_fails(
        &mut dialer,
        SignalingError::Decode(DecodeError::UnknownType(7)),
    );

    let mut listener = Signaling::new(Role::Listener, ms(0), Timeouts::default());
    listener.handle_bytes(ms(1), &[0xff, 0xff, 0xff, 0x7f]);
    assert!(matches!(
        failed(&drain(&mut listener)),
        Some(SignalingError::Decode(DecodeError::Prefix(_)))
    ));

    let mut dialer = dialer_awaiting_answer();
    dialer.handle_stream_end(ms(1));
    assert_fails(&mut dialer, SignalingError::StreamEnded(Step::ReadAnswer));

    let mut dialer = dialer_awaiting_answer();
    dialer.handle_browser_error(ms(1), Step::SetLocalDescription, "InvalidStateError".into());
    assert_fails(
        &mut dialer,
        SignalingError::Browser {
            step: Step::SetLocalDescription,
            reason: "InvalidStateError".into(),
        },
    );

    let mut dialer = dialer_awaiting_answer();
    dialer.handle_stream_error(ms(1), "reset by peer".into());
    assert_fails(&mut dialer, SignalingError::Stream("reset by peer".into()));

    for state in [ConnectionState::Failed, ConnectionState::Closed] {
        let mut dialer = dialer_awaiting_answer();
        dialer.handle_connection_state(ms(1), state);
        assert_fails(&mut dialer, SignalingError::Connection(state));
    }

    let mut dialer = Signaling::new(Role::Dialer, ms(0), Timeouts::default());
    drain(&mut dialer);
    dialer.handle_offer_created(ms(1), String::new());
    assert_fails(&mut dialer, SignalingError::EmptySdp(Step::CreateOffer));

    let mut dialer = Signaling::new(Role::Dialer, ms(0), Timeouts::default());
    drain(&mut dialer);
    dialer.handle_offer_created(ms(1), "a".repeat(super::super::MAX_MESSAGE_LEN));
    assert!(matches!(
        failed(&drain(&mut dialer)),
        Some(SignalingError::SdpTooLarge(_))
    ));
}

#[test]
fn queued_candidates_are_bounded() {
    let mut dialer = Signaling::new(Role::Dialer, ms(0), Timeouts::default());
    drain(&mut dialer);
    for _ in 0..MAX_QUEUED_CANDIDATES {
        dialer.handle_local_candidate(ms(1), Some(candidate(1)));
    }
    assert!(drain(&mut dialer).is_empty());
    dialer.handle_local_candidate(ms(1), Some(candidate(1)));
    assert_fails(&mut dialer, SignalingError::TooManyCandidates);

    let mut dialer = dialer_awaiting_answer();
    dialer.handle_bytes(ms(1), &message_bytes(MessageType::SdpAnswer, ANSWER));
    let one = message_bytes(MessageType::IceCandidate, &candidate(1).to_json());
    for _ in 0..MAX_QUEUED_CANDIDATES {
        dialer.handle_bytes(ms(1), &one);
    }
    drain(&mut dialer);
    dialer.handle_bytes(ms(1), &one);
    assert_fails(&mut dialer, SignalingError::TooManyCandidates);
}

/// Each wait times out with its own step, at exactly its deadline and not before.
#[test]
fn every_step_times_out_by_name() {
    let timeouts = Timeouts {
        browser_operation: ms(100),
        read_sdp: ms(200),
        connect: ms(300),
        close_init: ms(400),
        total: ms(10_000),
    };
    let check = |mut machine: Signaling, deadline: Duration, step: Step| {
        drain(&mut machine);
        assert_eq!(machine.poll_timeout(), Some(deadline), "{step:?}");
        machine.handle_timeout(deadline - ms(1));
        assert!(drain(&mut machine).is_empty(), "{step:?} early");
        machine.handle_timeout(deadline);
        assert_fails(&mut machine, SignalingError::Timeout(step));
    };
    // Dialer.
    let dialer = Signaling::new(Role::Dialer, ms(10), timeouts);
    check(dialer, ms(110), Step::CreateOffer);
    let mut dialer = Signaling::new(Role::Dialer, ms(10), timeouts);
    dialer.handle_offer_created(ms(20), OFFER.into());
    check(dialer, ms(220), Step::ReadAnswer);
    let mut dialer = Signaling::new(Role::Dialer, ms(10), timeouts);
    dialer.handle_offer_created(ms(20), OFFER.into());
    dialer.handle_bytes(ms(30), &message_bytes(MessageType::SdpAnswer, ANSWER));
    check(dialer, ms(130), Step::SetRemoteDescription);
    let mut dialer = Signaling::new(Role::Dialer, ms(10), timeouts);
    dialer.handle_offer_created(ms(20), OFFER.into());
    dialer.handle_bytes(ms(30), &message_bytes(MessageType::SdpAnswer, ANSWER));
    dialer.handle_remote_description_set(ms(40));
    check(dialer, ms(340), Step::Connect);
    let mut dialer = Signaling::new(Role::Dialer, ms(10), timeouts);
    dialer.handle_offer_created(ms(20), OFFER.into());
    dialer.handle_bytes(ms(30), &message_bytes(MessageType::SdpAnswer, ANSWER));
    dialer.handle_remote_description_set(ms(40));
    dialer.handle_connection_state(ms(50), ConnectionState::Connected);
    check(dialer, ms(450), Step::CloseInitChannel);
    // Listener.
    let listener = Signaling::new(Role::Listener, ms(10), timeouts);
    check(listener, ms(210), Step::ReadOffer);
    let mut listener = Signaling::new(Role::Listener, ms(10), timeouts);
    listener.handle_bytes(ms(20), &message_bytes(MessageType::SdpOffer, OFFER));
    check(listener, ms(120), Step::SetRemoteDescription);
    let mut listener = Signaling::new(Role::Listener, ms(10), timeouts);
    listener.handle_bytes(ms(20), &message_bytes(MessageType::SdpOffer, OFFER));
    listener.handle_remote_description_set(ms(30));
    check(listener, ms(130), Step::CreateAnswer);
    let mut listener = Signaling::new(Role::Listener, ms(10), timeouts);
    listener.handle_bytes(ms(20), &message_bytes(MessageType::SdpOffer, OFFER));
    listener.handle_remote_description_set(ms(30));
    listener.handle_answer_created(ms(40), ANSWER.into());
    check(listener, ms(340), Step::Connect);
    // The overall deadline wins when it is earlier.
    let mut dialer = Signaling::new(
        Role::Dialer,
        ms(0),
        Timeouts {
            total: ms(150),
            ..timeouts
        },
    );
    dialer.handle_offer_created(ms(20), OFFER.into());
    drain(&mut dialer);
    assert_eq!(dialer.poll_timeout(), Some(ms(150)));
    dialer.handle_timeout(ms(150));
    assert_fails(&mut dialer, SignalingError::TotalTimeout(Step::ReadAnswer));
}

#[cfg(not(target_family = "wasm"))]
mod simulation {
    use super::*;
    use proptest::prelude::*;

    /// A simulated browser for one side: performs the machine's actions when told to.
    struct Side {
        machine: Signaling,
        pending: VecDeque<Action>,
        to_peer: Vec<u8>,
        added: Vec<IceCandidate>,
        remote_set: bool,
        local_set: bool,
        gathered: bool,
        result: Option<Result<(), SignalingError>>,
        stream_closed: bool,
    }

    impl Side {
        fn new(role: Role) -> Self {
            Self {
                machine: Signaling::new(role, ms(0), Timeouts::default()),
                pending: VecDeque::new(),
                to_peer: Vec::new(),
                added: Vec::new(),
                remote_set: false,
                local_set: false,
                gathered: false,
                result: None,
                stream_closed: false,
            }
        }

        fn collect(&mut self) {
            while let Some(output) = self.machine.poll_output() {
                match output {
                    Output::Send(bytes) => self.to_peer.extend(bytes),
                    Output::Action(action) => self.pending.push_back(action),
                    Output::IgnoredCandidate(error) => panic!("ignored {error:?}"),
                    Output::Connected => self.result = Some(Ok(())),
                    Output::Failed(error) => self.result = Some(Err(error)),
                }
            }
        }

        /// Runs one pending browser operation, as the glue would when its promise resolves.
        fn step(&mut self, now: Duration, base: u8) {
            let Some(action) = self.pending.pop_front() else {
                return;
            };
            match action {
                Action::CreateOffer => self.machine.handle_offer_created(now, OFFER.into()),
                Action::CreateAnswer => self.machine.handle_answer_created(now, ANSWER.into()),
                Action::SetLocalDescription { .. } => self.local_set = true,
                Action::SetRemoteDescription { .. } => {
                    self.remote_set = true;
                    self.machine.handle_remote_description_set(now);
                }
                Action::AddIceCandidate(candidate) => {
                    assert!(
                        self.remote_set,
                        "candidate added before the remote description"
                    );
                    self.added.push(candidate);
                }
                Action::AddEndOfCandidates => {}
                Action::CloseInitChannel => self.machine.handle_init_channel_closed(now),
                Action::CloseSignalingStream => self.stream_closed = true,
                Action::ResetSignalingStream | Action::ClosePeerConnection => {}
            }
            if self.local_set && !self.gathered {
                self.gathered = true;
                for n in 0..3 {
                    self.machine
                        .handle_local_candidate(now, Some(candidate(base + n)));
                }
                self.machine.handle_local_candidate(now, None);
            }
            self.collect();
        }
    }

    proptest! {
        /// Whatever the interleaving of browser callbacks and however the stream chunks bytes,
        /// both sides connect, each adds the other's candidates in order, the dialer closes
        /// `init` before its stream, and nothing fails.
        #[test]
        fn dialer_and_listener_connect_under_any_schedule(schedule in proptest::collection::vec((0u8..4, 1usize..40), 1..400)) {
            let mut dialer = Side::new(Role::Dialer);
            let mut listener = Side::new(Role::Listener);
            dialer.collect();
            let mut now = ms(0);
            let mut connected = false;
            // The random schedule, then a fair round robin so that every run can finish.
            for (choice, chunk) in schedule.iter().copied().chain((0..400).map(|i| ((i % 4) as u8, 40usize))) {
                now += ms(1);
                match choice {
                    0 => dialer.step(now, 10),
                    1 => listener.step(now, 20),
                    2 | 3 => {
                        let (from, to) = if choice == 2 { (&mut dialer, &mut listener) } else { (&mut listener, &mut dialer) };
                        let n = chunk.min(from.to_peer.len());
                        let bytes: Vec<u8> = from.to_peer.drain(..n).collect();
                        to.machine.handle_bytes(now, &bytes);
                        to.collect();
                    }
                    _ => unreachable!(),
                }
                // The network connects once both sides have each other's SDP and a candidate.
                if !connected && dialer.remote_set && listener.remote_set && !dialer.added.is_empty() && !listener.added.is_empty() {
                    connected = true;
                    for side in [&mut dialer, &mut listener] {
                        side.machine.handle_connection_state(now, ConnectionState::Connected);
                        side.collect();
                    }
                    dialer.machine.handle_init_channel_open(now);
                    dialer.collect();
                }
                if dialer.result.is_some() && listener.result.is_some() {
                    break;
                }
            }
            while !dialer.pending.is_empty() || !listener.pending.is_empty() {
                dialer.step(now, 10);
                listener.step(now, 20);
            }
            prop_assert_eq!(dialer.result.clone(), Some(Ok(())));
            prop_assert_eq!(listener.result.clone(), Some(Ok(())));
            prop_assert!(dialer.stream_closed && listener.stream_closed);
            // Candidates were added in the order sent (a prefix: sending stops once connected).
            let expected_by_listener: Vec<_> = (10..13).map(candidate).collect();
            let expected_by_dialer: Vec<_> = (20..23).map(candidate).collect();
            prop_assert!(expected_by_listener.starts_with(&listener.added));
            prop_assert!(expected_by_dialer.starts_with(&dialer.added));
        }
    }
}
