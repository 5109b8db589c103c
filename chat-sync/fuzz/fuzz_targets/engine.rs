//! The engine fed untrusted frames (as responder and, after starting a sync, as initiator):
//! never panics, and everything it sends is a valid frame within the frame limit.
#![no_main]

use std::collections::BTreeMap;

use chat_sync::protocol::MAX_FRAME_LEN;
use chat_sync::{Config, Frame, Item, SortedItems, SyncEngine};
use libfuzzer_sys::fuzz_target;

const TOPIC: [u8; 16] = [1; 16];

fuzz_target!(|data: &[u8]| {
    // The first byte sizes our set; the rest is frames, each as a 2-byte big-endian length
    // and that many bytes.
    let Some((&size, rest)) = data.split_first() else {
        return;
    };
    let items = (0..u64::from(size) * 8).map(|n| {
        let mut id = [0u8; 32];
        id[..8].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
        Item { time: n / 3, id }
    });
    let sets = BTreeMap::from([(TOPIC, SortedItems::from_unsorted(items.collect()))]);
    let mut engine: SyncEngine<u8> = SyncEngine::new(Config::default());
    let _ = engine.start_sync(0, 7, TOPIC, &sets[&TOPIC]);
    let mut frames = vec![];
    let mut rest = rest;
    while let [high, low, tail @ ..] = rest {
        let len = usize::from(u16::from_be_bytes([*high, *low])).min(tail.len());
        frames.push(&tail[..len]);
        rest = &tail[len..];
    }
    for (now, frame) in frames.into_iter().enumerate() {
        let _ = engine.handle_frame(now as u64, 7, frame, &sets);
        engine.handle_timeout(now as u64 * 1_000);
        while let Some(transmit) = engine.poll_transmit() {
            assert!(transmit.frame.len() <= MAX_FRAME_LEN);
            assert!(Frame::decode(&transmit.frame).is_ok());
        }
        while engine.poll_event().is_some() {}
    }
});
