use super::*;

const OFFER_SDP: &str = include_str!("../../tests/fixtures/chrome-offer.sdp");
const ANSWER_SDP: &str = include_str!("../../tests/fixtures/chrome-answer.sdp");
const LAN_OFFER_SDP: &str = include_str!("../../tests/fixtures/chrome-offer-lan.sdp");
const NOW: u64 = 1_795_000_000;
const EXPIRES: u32 = 1_795_000_300;

fn alice() -> DeviceKey {
    DeviceKey::from_seed(&[1; 32])
}

fn bob() -> DeviceKey {
    DeviceKey::from_seed(&[2; 32])
}

/// Alice's offer and Bob's answer to it, both verified.
fn exchange() -> (Verified, Verified) {
    let offer_blob = offer(&alice(), OFFER_SDP, [7; NONCE_LEN], EXPIRES).unwrap();
    let offer = verify(&offer_blob, &alice().public(), Expect::Offer, NOW).unwrap();
    let answer_blob = answer(&bob(), ANSWER_SDP, &offer, [8; NONCE_LEN], EXPIRES).unwrap();
    let answer = verify(&answer_blob, &bob().public(), Expect::AnswerTo(&offer), NOW).unwrap();
    (offer, answer)
}

#[test]
fn chrome_offer_is_reduced_to_what_the_browser_needs() {
    let session = SessionParams::from_sdp(OFFER_SDP).unwrap();
    assert_eq!(session.ufrag, "kP3x");
    assert_eq!(session.pwd, "Qm7vT2yLr9sWbH4nXc8dZf1a");
    assert_eq!(session.fingerprint_algorithm, HashAlgorithm::Sha256);
    assert_eq!(session.fingerprint[..3], [0x4e, 0x1a, 0x9c]);
    assert_eq!(session.setup, Setup::ActPass);
    assert_eq!(
        (
            session.mid.as_str(),
            session.sctp_port,
            session.max_message_size
        ),
        ("0", 5000, 262_144)
    );
    assert_eq!(
        session.candidates,
        [
            Candidate {
                kind: CandidateType::Host,
                tcp: None,
                priority: 2_113_937_151,
                address: Address::Mdns([
                    0x6f, 0x1b, 0x8e, 0x52, 0x2d, 0x8a, 0x4c, 0x57, 0x9a, 0x3e, 0x0c, 0x7b, 0x5d,
                    0x4e, 0x9f, 0x21
                ]),
                port: 50393,
                related: None,
            },
            Candidate {
                kind: CandidateType::ServerReflexive,
                tcp: None,
                priority: 1_677_729_535,
                address: Address::V4([203, 0, 113, 45].into()),
                port: 50393,
                related: Some((Address::V4([0, 0, 0, 0].into()), 0)),
            },
        ]
    );
}

#[test]
fn rebuilt_sdp_carries_the_signed_values_line_for_line() {
    let (offer, answer) = exchange();
    let sdp = offer.sdp();
    for line in [
        "a=candidate:1 1 udp 2113937151 6f1b8e52-2d8a-4c57-9a3e-0c7b5d4e9f21.local 50393 typ host",
        "a=candidate:2 1 udp 1677729535 203.0.113.45 50393 typ srflx raddr 0.0.0.0 rport 0",
        "a=end-of-candidates",
        "a=ice-ufrag:kP3x",
        "a=ice-pwd:Qm7vT2yLr9sWbH4nXc8dZf1a",
        "a=fingerprint:sha-256 4E:1A:9C:07:B2:5D:E8:33:6F:A0:19:C4:7B:82:D5:3E:90:11:AF:6C:2D:B7:48:E5:03:9A:F1:5C:76:28:BD:E4",
        "a=setup:actpass",
        "a=mid:0",
        "a=group:BUNDLE 0",
        "a=sctp-port:5000",
        "a=max-message-size:262144",
        "m=application 9 UDP/DTLS/SCTP webrtc-datachannel",
    ] {
        assert!(
            sdp.split("\r\n").any(|l| l == line),
            "missing {line:?} in\n{sdp}"
        );
    }
    assert!(sdp.ends_with("\r\n") && !sdp.contains("\n\n"));
    // The rebuilt SDP extracts to the same parameters: nothing is lost or changed.
    assert_eq!(&SessionParams::from_sdp(&sdp).unwrap(), offer.session());
    assert_eq!(
        &SessionParams::from_sdp(&answer.sdp()).unwrap(),
        answer.session()
    );
    assert_eq!(answer.session().setup, Setup::Active);
    let lan = SessionParams::from_sdp(LAN_OFFER_SDP).unwrap();
    assert_eq!(SessionParams::from_sdp(&lan.to_sdp(1)).unwrap(), lan);
    assert!(
        lan.to_sdp(1)
            .contains("a=candidate:3 1 tcp 1518280447 10.213.0.1 9 typ host tcptype active\r\n")
    );
    assert!(
        lan.to_sdp(1)
            .contains("a=candidate:2 1 udp 2122197247 fd00:213::1 52109 typ host\r\n")
    );
}

#[test]
fn verification_checks_signer_signature_kind_freshness_and_offer() {
    let (offer_v, _) = exchange();
    let offer_blob = offer_v.blob().clone();
    assert_eq!(
        verify(&offer_blob, &bob().public(), Expect::Offer, NOW),
        Err(OobError::UnexpectedSigner)
    );
    assert_eq!(
        verify(
            &offer_blob,
            &alice().public(),
            Expect::Offer,
            u64::from(EXPIRES)
        ),
        Err(OobError::Expired)
    );
    assert_eq!(
        verify(
            &offer_blob,
            &alice().public(),
            Expect::Offer,
            u64::from(EXPIRES) - MAX_LIFETIME_SECS - 1
        ),
        Err(OobError::TooFarAhead)
    );
    assert_eq!(
        verify(
            &offer_blob,
            &alice().public(),
            Expect::AnswerTo(&offer_v),
            NOW
        ),
        Err(OobError::WrongKind {
            expected: Kind::Answer,
            got: Kind::Offer
        })
    );
    // An answer to a different offer (another nonce) is refused.
    let other_offer = offer(&alice(), OFFER_SDP, [9; NONCE_LEN], EXPIRES).unwrap();
    let other = verify(&other_offer, &alice().public(), Expect::Offer, NOW).unwrap();
    let answer_blob = answer(&bob(), ANSWER_SDP, &other, [8; NONCE_LEN], EXPIRES).unwrap();
    assert_eq!(
        verify(
            &answer_blob,
            &bob().public(),
            Expect::AnswerTo(&offer_v),
            NOW
        ),
        Err(OobError::OfferMismatch)
    );
    // Re-signing changed content with another key and claiming Alice fails the signature.
    let mut forged = offer(&bob(), OFFER_SDP, [7; NONCE_LEN], EXPIRES)
        .unwrap()
        .as_bytes()
        .to_vec();
    forged[2..34].copy_from_slice(&alice().public().to_bytes());
    assert_eq!(
        verify(
            &Blob::from_bytes(forged),
            &alice().public(),
            Expect::Offer,
            NOW
        ),
        Err(OobError::BadSignature)
    );
    assert_eq!(offer_v.nonce(), [7; NONCE_LEN]);
    assert_eq!(offer_v.expires_at(), u64::from(EXPIRES));
    assert_eq!(offer_v.signer(), alice().public());
}

#[test]
fn text_form_round_trips() {
    let (offer_v, _) = exchange();
    let text = offer_v.blob().to_text();
    assert!(text.starts_with(TEXT_PREFIX));
    assert!(
        text.bytes()
            .all(|b| crypto::codec::base45::ALPHABET.contains(&b))
    );
    assert_eq!(
        &Blob::from_text(&format!("  {text}\n")).unwrap(),
        offer_v.blob()
    );
    assert_eq!(Blob::from_text("WRTC2:00"), Err(OobError::Text));
    assert_eq!(Blob::from_text("WRTC1:a"), Err(OobError::Text));
}

/// Every prefix, every single-bit change and one extra byte are refused (signature checks run
/// in debug builds, so the offer and the answer are separate tests to run in parallel).
fn assert_every_corruption_refused(blob: &Blob, signer: PublicKey, expect: Expect<'_>) {
    let bytes = blob.as_bytes();
    assert!(verify(blob, &signer, expect, NOW).is_ok());
    for cut in 0..bytes.len() {
        assert!(
            verify(
                &Blob::from_bytes(bytes[..cut].to_vec()),
                &signer,
                expect,
                NOW
            )
            .is_err(),
            "cut {cut}"
        );
    }
    for bit in 0..bytes.len() * 8 {
        let mut flipped = bytes.to_vec();
        flipped[bit / 8] ^= 1 << (bit % 8);
        assert!(
            verify(&Blob::from_bytes(flipped), &signer, expect, NOW).is_err(),
            "bit {bit}"
        );
    }
    let mut longer = bytes.to_vec();
    longer.push(0);
    assert!(verify(&Blob::from_bytes(longer), &signer, expect, NOW).is_err());
}

#[test]
fn every_corruption_of_an_offer_is_refused() {
    let (offer_v, _) = exchange();
    assert_every_corruption_refused(offer_v.blob(), alice().public(), Expect::Offer);
}

#[test]
fn every_corruption_of_an_answer_is_refused() {
    let (offer_v, answer_v) = exchange();
    assert_every_corruption_refused(answer_v.blob(), bob().public(), Expect::AnswerTo(&offer_v));
}

#[test]
fn sdp_without_what_a_blob_needs_is_refused_by_name() {
    let cases = [
        ("a=ice-ufrag:kP3x\r\n", "", SdpError::Missing("ice-ufrag")),
        (
            "a=ice-pwd:Qm7vT2yLr9sWbH4nXc8dZf1a",
            "a=ice-pwd:short",
            SdpError::Malformed("ice-pwd"),
        ),
        (
            "a=ice-ufrag:kP3x",
            "a=ice-ufrag:k\"3x",
            SdpError::Malformed("ice-ufrag"),
        ),
        (
            "a=setup:actpass",
            "a=setup:holdconn",
            SdpError::Malformed("setup"),
        ),
        ("a=mid:0\r\n", "", SdpError::Missing("mid")),
        ("sha-256 4E", "sha-1 4E", SdpError::Malformed("fingerprint")),
        ("E4\r\n", "\r\n", SdpError::Malformed("fingerprint")),
        ("m=application", "m=audio", SdpError::Media),
    ];
    for (from, to, error) in cases {
        let sdp = OFFER_SDP.replacen(from, to, 1);
        assert_eq!(
            SessionParams::from_sdp(&sdp),
            Err(error),
            "{from:?} -> {to:?}"
        );
    }
    // A second m= section is refused; a line break in a value just starts an ignored line.
    assert_eq!(
        SessionParams::from_sdp(&format!("{OFFER_SDP}m=application 9 x\r\n")),
        Err(SdpError::Media)
    );
    assert!(SessionParams::from_sdp(&OFFER_SDP.replace("a=mid:0", "a=mid:0\r\nevil")).is_ok());
    let injected = OFFER_SDP.replace("a=mid:0", "a=mid:0 x");
    assert_eq!(
        SessionParams::from_sdp(&injected),
        Err(SdpError::Malformed("mid"))
    );
    let bad_candidate = OFFER_SDP.replace("typ srflx", "typ unknown");
    assert!(matches!(
        SessionParams::from_sdp(&bad_candidate),
        Err(SdpError::Candidate(_))
    ));
    let many: String = (0..=MAX_CANDIDATES_FOR_TEST)
        .map(|i| format!("a=candidate:{i} 1 udp 1 10.0.0.{i} 9 typ host\r\n"))
        .collect();
    let crowded = OFFER_SDP.replace("a=ice-ufrag", &format!("{many}a=ice-ufrag"));
    assert_eq!(
        SessionParams::from_sdp(&crowded),
        Err(SdpError::TooManyCandidates)
    );
}

const MAX_CANDIDATES_FOR_TEST: usize = sdp::MAX_CANDIDATES;

#[cfg(not(target_family = "wasm"))]
mod sizes {
    use super::*;
    use qrcode::{EcLevel, QrCode, Version};

    fn qr_version(data: &[u8]) -> i16 {
        match QrCode::with_error_correction_level(data, EcLevel::M)
            .unwrap()
            .version()
        {
            Version::Normal(v) | Version::Micro(v) => v,
        }
    }

    /// Measured sizes of the blobs for the Chrome fixtures; Base45 gives the smaller QR code.
    #[test]
    fn blobs_fit_a_qr_code_and_base45_beats_base64url() {
        let (offer_v, answer_v) = exchange();
        let lan = verify(
            &offer(&alice(), LAN_OFFER_SDP, [3; NONCE_LEN], EXPIRES).unwrap(),
            &alice().public(),
            Expect::Offer,
            NOW,
        )
        .unwrap();
        for (name, blob, sdp) in [
            ("offer", offer_v.blob(), OFFER_SDP),
            ("answer", answer_v.blob(), ANSWER_SDP),
            ("lan offer", lan.blob(), LAN_OFFER_SDP),
        ] {
            let base45 = blob.to_text();
            let base64 = format!(
                "wrtc1:{}",
                data_encoding::BASE64URL_NOPAD.encode(blob.as_bytes())
            );
            let (v45, v64) = (qr_version(base45.as_bytes()), qr_version(base64.as_bytes()));
            println!(
                "{name}: SDP {} B, blob {} B, Base45 text {} chars (QR v{v45} M), base64url text {} chars (QR v{v64} M)",
                sdp.len(),
                blob.as_bytes().len(),
                base45.len(),
                base64.len()
            );
            assert!(
                blob.as_bytes().len() * 5 < sdp.len() * 2,
                "{name}: the blob is under 40% of the SDP"
            );
            assert!(v45 < v64, "{name}: Base45 {v45} vs base64url {v64}");
            assert!(v45 <= 13, "{name}: QR version {v45}");
        }
    }
}

#[cfg(not(target_family = "wasm"))]
mod properties {
    use super::*;
    use proptest::prelude::*;

    fn address() -> impl Strategy<Value = Address> {
        prop_oneof![
            any::<[u8; 4]>().prop_map(|b| Address::V4(b.into())),
            any::<[u8; 16]>().prop_map(|b| Address::V6(b.into())),
            any::<[u8; 16]>().prop_map(Address::Mdns),
            "[a-z0-9][a-z0-9.-]{0,40}".prop_map(Address::Host),
        ]
    }

    fn candidate() -> impl Strategy<Value = Candidate> {
        (
            0usize..4,
            proptest::option::of(proptest::option::of(0usize..3)),
            any::<u32>(),
            address(),
            any::<u16>(),
            proptest::option::of((address(), any::<u16>())),
        )
            .prop_map(|(kind, tcp, priority, address, port, related)| Candidate {
                kind: CandidateType::ALL[kind],
                tcp: tcp.map(|t| t.map(|t| TcpType::ALL[t])),
                priority,
                address,
                port,
                related,
            })
    }

    fn session() -> impl Strategy<Value = SessionParams> {
        (
            "[A-Za-z0-9+/]{4,40}",
            "[A-Za-z0-9+/]{22,60}",
            0usize..3,
            "[A-Za-z0-9_.-]{1,32}",
            any::<u16>(),
            any::<u32>(),
            proptest::collection::vec(candidate(), 0..6),
            0usize..3,
        )
            .prop_map(
                |(ufrag, pwd, setup, mid, sctp_port, max_message_size, candidates, alg)| {
                    let algorithm = HashAlgorithm::ALL[alg];
                    SessionParams {
                        ufrag,
                        pwd,
                        fingerprint_algorithm: algorithm,
                        fingerprint: (0..algorithm.digest_len()).map(|i| i as u8).collect(),
                        setup: Setup::ALL[setup],
                        mid,
                        sctp_port,
                        max_message_size,
                        candidates,
                    }
                },
            )
    }

    proptest! {
        // Each case signs and verifies (slow in debug builds).
        #![proptest_config(ProptestConfig::with_cases(64))]

        /// Any session survives SDP → blob → verify → SDP unchanged.
        #[test]
        fn any_session_round_trips(session in session(), nonce in any::<[u8; NONCE_LEN]>()) {
            let sdp = session.to_sdp(1);
            prop_assert_eq!(&SessionParams::from_sdp(&sdp).unwrap(), &session);
            let blob = offer(&alice(), &sdp, nonce, EXPIRES).unwrap();
            let verified = verify(&Blob::from_text(&blob.to_text()).unwrap(), &alice().public(), Expect::Offer, NOW).unwrap();
            prop_assert_eq!(verified.session(), &session);
        }

        #[test]
        fn arbitrary_bytes_and_text_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..400), text in ".{0,400}") {
            let _ = verify(&Blob::from_bytes(bytes), &alice().public(), Expect::Offer, NOW);
            let _ = Blob::from_text(&text);
            let _ = SessionParams::from_sdp(&text);
        }
    }
}
