use std::collections::{BTreeSet, HashSet, VecDeque};

use super::*;

const T: Duration = Duration::from_secs(10);

fn drain(state: &mut StreamState) -> Vec<Flag> {
    std::iter::from_fn(|| state.poll_transmit())
        .map(|f| f.flag.unwrap())
        .collect()
}

#[test]
fn clean_close_in_both_directions_uses_fin_and_fin_ack() {
    let (mut a, mut b) = (StreamState::new(T), StreamState::new(T));
    a.close_write(Duration::ZERO);
    assert_eq!(
        a.check_write(),
        Err(StreamError::WriteClosed(WriteHalf::FinSent { deadline: T }))
    );
    assert_eq!(drain(&mut a), [Flag::Fin]);
    assert_eq!(b.handle_frame(Frame::flag(Flag::Fin)), Ok(None));
    assert!(b.read_ended());
    assert_eq!(drain(&mut b), [Flag::FinAck]);
    assert!(!b.should_close_channel(), "b may still write");
    assert_eq!(b.check_write(), Ok(()));
    assert_eq!(a.handle_frame(Frame::flag(Flag::FinAck)), Ok(None));
    assert_eq!(a.write_half(), WriteHalf::Closed);
    assert!(!a.should_close_channel(), "a still reads");
    b.close_write(Duration::ZERO);
    assert_eq!(drain(&mut b), [Flag::Fin]);
    a.handle_frame(Frame::flag(Flag::Fin)).unwrap();
    assert_eq!(drain(&mut a), [Flag::FinAck]);
    assert!(a.should_close_channel());
    b.handle_frame(Frame::flag(Flag::FinAck)).unwrap();
    assert!(b.should_close_channel());
}

#[test]
fn fin_ack_timeout_closes_the_write_half() {
    let mut a = StreamState::new(T);
    a.close_write(Duration::from_secs(1));
    assert_eq!(a.poll_timeout(), Some(Duration::from_secs(11)));
    a.handle_timeout(Duration::from_secs(10));
    assert!(matches!(a.write_half(), WriteHalf::FinSent { .. }));
    a.handle_timeout(Duration::from_secs(11));
    assert_eq!(a.write_half(), WriteHalf::FinAckTimedOut);
    assert_eq!(a.poll_timeout(), None);
    // A late FIN_ACK changes nothing.
    a.handle_frame(Frame::flag(Flag::FinAck)).unwrap();
    assert_eq!(a.write_half(), WriteHalf::FinAckTimedOut);
}

#[test]
fn stop_sending_closes_the_peer_write_half_without_reset() {
    let (mut a, mut b) = (StreamState::new(T), StreamState::new(T));
    a.stop_reading();
    assert_eq!(drain(&mut a), [Flag::StopSending]);
    b.handle_frame(Frame::flag(Flag::StopSending)).unwrap();
    assert_eq!(
        b.check_write(),
        Err(StreamError::WriteClosed(WriteHalf::StoppedByPeer))
    );
    assert!(drain(&mut b).is_empty(), "STOP_SENDING is never answered");
    // a keeps acting on flags: its own FIN is still acknowledged.
    a.close_write(Duration::ZERO);
    assert_eq!(drain(&mut a), [Flag::Fin]);
    assert_eq!(
        b.handle_frame(Frame::data(*b"late")),
        Ok(Some(b"late".to_vec()))
    );
    b.handle_frame(Frame::flag(Flag::Fin)).unwrap();
    assert_eq!(drain(&mut b), [Flag::FinAck]);
    a.handle_frame(Frame::flag(Flag::FinAck)).unwrap();
    assert_eq!(a.handle_frame(Frame::data(*b"dropped")), Ok(None));
    assert!(a.should_close_channel());
    assert!(b.should_close_channel());
}

#[test]
fn reset_ends_both_halves_and_data_after_fin_is_a_violation() {
    let mut a = StreamState::new(T);
    a.handle_frame(Frame::flag(Flag::ResetStream)).unwrap();
    assert_eq!(
        (a.read_half(), a.write_half()),
        (ReadHalf::Reset, WriteHalf::Reset)
    );
    assert!(a.should_close_channel());
    let mut b = StreamState::new(T);
    b.reset();
    b.reset();
    assert_eq!(drain(&mut b), [Flag::ResetStream]);
    let mut c = StreamState::new(T);
    let fin_with_data = Frame {
        flag: Some(Flag::Fin),
        message: Some(b"last".to_vec()),
    };
    assert_eq!(c.handle_frame(fin_with_data), Ok(Some(b"last".to_vec())));
    assert_eq!(
        c.handle_frame(Frame::data(*b"more")),
        Err(StreamError::DataAfterFin)
    );
    let mut d = StreamState::new(T);
    d.close_write(Duration::ZERO);
    d.handle_channel_closed();
    assert_eq!(
        (d.read_half(), d.write_half()),
        (ReadHalf::Closed, WriteHalf::Reset)
    );
    assert!(drain(&mut d).is_empty());
}

#[derive(Debug, Clone, Copy)]
enum Input {
    Frame(Option<Flag>, bool),
    CloseWrite,
    StopReading,
    Reset,
    Timeout,
    ChannelClosed,
}

fn inputs() -> Vec<Input> {
    let mut all = vec![
        Input::CloseWrite,
        Input::StopReading,
        Input::Reset,
        Input::Timeout,
        Input::ChannelClosed,
    ];
    for flag in [
        None,
        Some(Flag::Fin),
        Some(Flag::StopSending),
        Some(Flag::ResetStream),
        Some(Flag::FinAck),
    ] {
        for data in [false, true] {
            all.push(Input::Frame(flag, data));
        }
    }
    all
}

fn apply(state: &mut StreamState, input: Input) -> Result<Option<Vec<u8>>, StreamError> {
    match input {
        Input::Frame(flag, data) => state.handle_frame(Frame {
            flag,
            message: data.then(|| b"d".to_vec()),
        }),
        Input::CloseWrite => {
            state.close_write(Duration::ZERO);
            Ok(None)
        }
        Input::StopReading => {
            state.stop_reading();
            Ok(None)
        }
        Input::Reset => {
            state.reset();
            Ok(None)
        }
        Input::Timeout => {
            state.handle_timeout(T);
            Ok(None)
        }
        Input::ChannelClosed => {
            state.handle_channel_closed();
            Ok(None)
        }
    }
}

/// Every reachable (read, write) state under every input: the rules of the module table hold.
#[test]
fn exhaustive_transitions_keep_the_close_rules() {
    let start = StreamState::new(T);
    let mut seen = HashSet::new();
    let mut queue = VecDeque::from([start]);
    while let Some(state) = queue.pop_front() {
        if !seen.insert((state.read_half(), state.write_half())) {
            continue;
        }
        for input in inputs() {
            let mut next = state.clone();
            let result = apply(&mut next, input);
            let sent = drain(&mut next);
            // Halves never reopen.
            if state.read_half() != ReadHalf::Open {
                assert_ne!(next.read_half(), ReadHalf::Open);
            }
            if state.write_half() != WriteHalf::Open {
                assert_ne!(next.write_half(), WriteHalf::Open);
            }
            if !matches!(
                state.write_half(),
                WriteHalf::Open | WriteHalf::FinSent { .. }
            ) {
                assert!(
                    !matches!(
                        next.write_half(),
                        WriteHalf::Open | WriteHalf::FinSent { .. }
                    ),
                    "{state:?} {input:?}"
                );
            }
            // Writes are allowed exactly while the write half is open.
            assert_eq!(
                next.check_write().is_ok(),
                next.write_half() == WriteHalf::Open
            );
            // Data is delivered only on an open read half, and after FIN it is an error.
            match (&result, input) {
                (Ok(Some(_)), Input::Frame(_, true)) => {
                    assert_eq!(state.read_half(), ReadHalf::Open)
                }
                (Ok(Some(_)), _) => panic!("delivered data without a data frame"),
                (Err(StreamError::DataAfterFin), Input::Frame(_, true)) => {
                    assert_eq!(state.read_half(), ReadHalf::Finished)
                }
                (Err(error), _) => panic!("unexpected {error:?} for {input:?} in {state:?}"),
                (Ok(None), Input::Frame(_, true)) => assert_ne!(state.read_half(), ReadHalf::Open),
                (Ok(None), _) => {}
            }
            // What is sent: FIN only from an open write half on close_write, FIN_ACK only for a
            // received FIN, STOP_SENDING only on stop_reading, RESET only on a local reset;
            // nothing at all after the channel closed.
            let expected: Vec<Flag> = match input {
                Input::CloseWrite if state.write_half() == WriteHalf::Open => vec![Flag::Fin],
                Input::StopReading if state.read_half() == ReadHalf::Open => {
                    vec![Flag::StopSending]
                }
                Input::Reset
                    if state.write_half() != WriteHalf::Reset
                        || !matches!(state.read_half(), ReadHalf::Reset | ReadHalf::Closed) =>
                {
                    vec![Flag::ResetStream]
                }
                Input::Frame(Some(Flag::Fin), data)
                    if matches!(
                        state.read_half(),
                        ReadHalf::Open | ReadHalf::Stopped | ReadHalf::Finished
                    ) && !(data && state.read_half() == ReadHalf::Finished) =>
                {
                    vec![Flag::FinAck]
                }
                _ => vec![],
            };
            assert_eq!(sent, expected, "{state:?} {input:?}");
            queue.push_back(next);
        }
    }
    let reachable: BTreeSet<String> = seen.iter().map(|s| format!("{s:?}")).collect();
    // 5 read states × 6 write states, minus the combinations no input sequence produces.
    assert!(seen.contains(&(ReadHalf::Finished, WriteHalf::Closed)));
    assert!(seen.contains(&(ReadHalf::Stopped, WriteHalf::FinAckTimedOut)));
    assert!(seen.contains(&(ReadHalf::Closed, WriteHalf::StoppedByPeer)));
    assert!(
        !seen.contains(&(ReadHalf::Reset, WriteHalf::Open)),
        "{reachable:?}"
    );
    assert!(
        !seen.contains(&(ReadHalf::Closed, WriteHalf::Open)),
        "{reachable:?}"
    );
}

#[cfg(not(target_family = "wasm"))]
mod pair {
    use super::*;
    use crate::framing::{Decoder, MAX_FRAME_LEN, encode};
    use proptest::prelude::*;

    /// One endpoint: its state, what the application wrote, what it read.
    #[derive(Default)]
    struct End {
        state: StreamState,
        written: Vec<u8>,
        read: Vec<u8>,
        stopped: bool,
        reset: bool,
    }

    #[derive(Debug, Clone)]
    enum Op {
        Write(bool, Vec<u8>),
        CloseWrite(bool),
        Stop(bool),
        Reset(bool),
        Deliver(bool),
        Advance,
    }

    fn op() -> impl Strategy<Value = Op> {
        prop_oneof![
            3 => (any::<bool>(), proptest::collection::vec(any::<u8>(), 1..40)).prop_map(|(s, d)| Op::Write(s, d)),
            1 => any::<bool>().prop_map(Op::CloseWrite),
            1 => any::<bool>().prop_map(Op::Stop),
            1 => any::<bool>().prop_map(Op::Reset),
            6 => any::<bool>().prop_map(Op::Deliver),
            1 => Just(Op::Advance),
        ]
    }

    fn flush(end: &mut End, wire: &mut Vec<u8>) {
        while let Some(frame) = end.state.poll_transmit() {
            let bytes = encode(&frame).unwrap();
            assert!(bytes.len() <= MAX_FRAME_LEN);
            wire.extend_from_slice(&bytes);
        }
    }

    /// Delivers everything on `wire` to `to`, in chunks of 3 bytes (frames span chunks).
    fn deliver(wire: &mut Vec<u8>, decoder: &mut Decoder, to: &mut End) {
        let bytes = core::mem::take(wire);
        for mut chunk in bytes.chunks(3) {
            while let Some(frame) = decoder.decode(&mut chunk).unwrap() {
                if let Some(data) = to.state.handle_frame(frame).unwrap() {
                    to.read.extend_from_slice(&data);
                }
            }
        }
    }

    proptest! {
        /// Two endpoints over an in-order, lossless channel: whatever the interleaving, the
        /// reader gets a prefix of what was written, everything when neither side stopped or
        /// reset, and a close from both sides ends with both channels closable before any
        /// FIN_ACK timeout.
        #[test]
        fn two_endpoints_agree(ops in proptest::collection::vec(op(), 0..60)) {
            let mut ends = [End::default(), End::default()];
            let mut wires = [Vec::new(), Vec::new()];
            let mut decoders = [Decoder::new(), Decoder::new()];
            let mut now = Duration::ZERO;
            let mut timed_out = false;
            for op in ops {
                match op {
                    Op::Write(side, data) => {
                        let e = &mut ends[usize::from(side)];
                        if e.state.check_write().is_ok() {
                            wires[usize::from(side)].extend_from_slice(&encode(&Frame::data(data.clone())).unwrap());
                            e.written.extend_from_slice(&data);
                        }
                    }
                    Op::CloseWrite(side) => ends[usize::from(side)].state.close_write(now),
                    Op::Stop(side) => {
                        ends[usize::from(side)].stopped = true;
                        ends[usize::from(side)].state.stop_reading();
                    }
                    Op::Reset(side) => {
                        ends[usize::from(side)].reset = true;
                        ends[usize::from(side)].state.reset();
                    }
                    Op::Deliver(side) => {
                        let s = usize::from(side);
                        flush(&mut ends[s], &mut wires[s]);
                        let [a, b] = &mut ends;
                        let to = if side { a } else { b };
                        deliver(&mut wires[s], &mut decoders[1 - s], to);
                    }
                    Op::Advance => {
                        now += T;
                        for e in &mut ends {
                            timed_out |= matches!(e.state.write_half(), WriteHalf::FinSent { .. });
                            e.state.handle_timeout(now);
                        }
                    }
                }
                for (i, e) in ends.iter().enumerate() {
                    let other = &ends[1 - i];
                    prop_assert!(other.written.starts_with(&e.read));
                }
            }
            // Drain both directions until quiet, close both write halves, drain again.
            for _ in 0..3 {
                for s in 0..2 {
                    flush(&mut ends[s], &mut wires[s]);
                    let [a, b] = &mut ends;
                    let to = if s == 1 { a } else { b };
                    deliver(&mut wires[s], &mut decoders[1 - s], to);
                }
                for e in &mut ends {
                    e.state.close_write(now);
                }
            }
            let any_reset = ends.iter().any(|e| e.reset);
            for i in 0..2 {
                let (e, other) = (&ends[i], &ends[1 - i]);
                if !any_reset && !e.stopped {
                    prop_assert_eq!(&e.read, &other.written);
                }
                if !timed_out {
                    prop_assert!(e.state.should_close_channel(), "{:?}", e.state);
                }
            }
        }
    }
}
