//! The engine's request/reply behaviour: reconciliation, fetch, push and ack, timeouts,
//! refusals, limits.

mod common;

use chat_sync::protocol::{Frame, MAX_FRAME_LEN};
use chat_sync::{
    Busy, Config, Event, Failure, MIN_FRAME_LIMIT, RefuseReason, SortedItems, SyncEngine,
};
use common::{Pair, TOPIC, ids, item};
use std::collections::BTreeMap;

fn set(range: std::ops::Range<u64>) -> SortedItems {
    SortedItems::from_unsorted(range.map(item).collect())
}

#[test]
fn reconciliation_reports_both_directions_and_counts_round_trips() {
    let mut a = set(0..10_000);
    let mut b = a.clone();
    let only_a: Vec<_> = [20_000, 20_001, 30_000].map(item).to_vec();
    let only_b: Vec<_> = [40_000, 5].map(|n| item(n + 50_000)).to_vec();
    only_a.iter().for_each(|i| assert!(a.insert(*i)));
    only_b.iter().for_each(|i| assert!(b.insert(*i)));
    let mut pair = Pair::new(a, b, Config::default());
    let (need, have, stats) = pair.reconcile();
    assert_eq!((need, have), (ids(&only_b), ids(&only_a)));
    assert!(
        stats.round_trips >= 2 && stats.round_trips <= 4,
        "{stats:?}"
    );
    assert!(stats.bytes_sent > 0 && stats.bytes_received > 0);
    assert_eq!(pair.engines[0].in_flight(), 0);
}

#[test]
fn identical_sets_take_one_round_trip() {
    let a = set(0..3_000);
    let mut pair = Pair::new(a.clone(), a, Config::default());
    let (need, have, stats) = pair.reconcile();
    assert!(need.is_empty() && have.is_empty());
    assert_eq!(stats.round_trips, 1);
}

#[test]
fn frames_stay_within_a_small_limit_for_a_large_difference() {
    let a = set(0..3_000);
    let b = set(1_500..6_000);
    let config = Config {
        frame_limit: MIN_FRAME_LIMIT,
        max_rounds: 200,
        ..Config::default()
    };
    let mut pair = Pair::new(a, b, config);
    let (need, have, _) = pair.reconcile();
    assert_eq!(need, ids(&(3_000..6_000).map(item).collect::<Vec<_>>()));
    assert_eq!(have, ids(&(0..1_500).map(item).collect::<Vec<_>>()));
    assert!(
        pair.largest_frame <= MIN_FRAME_LIMIT,
        "frame of {} bytes",
        pair.largest_frame
    );
}

#[test]
fn fetch_push_and_ack_carry_envelopes() {
    let mut pair = Pair::new(set(0..1), set(0..1), Config::default());
    let requests = pair.engines[0]
        .fetch(0, 1, TOPIC, &[[1; 32], [2; 32]])
        .expect("room");
    assert_eq!(requests.len(), 1);
    pair.run();
    let Some(Event::FetchRequested {
        peer, request, ids, ..
    }) = pair.events[1].pop()
    else {
        panic!("no fetch request: {:?}", pair.events[1]);
    };
    assert_eq!(
        (peer, request, ids),
        (0, requests[0], vec![[1; 32], [2; 32]])
    );
    pair.engines[1].answer_fetch(0, request, vec![b"one".to_vec()]);
    pair.run();
    assert_eq!(
        pair.events[0].pop(),
        Some(Event::Fetched {
            peer: 1,
            topic: TOPIC,
            envelopes: vec![b"one".to_vec()]
        })
    );

    let mut envelopes = vec![vec![7; 15_000]; 5];
    envelopes.push(vec![0; chat_sync::protocol::MAX_ENVELOPE_LEN + 1]);
    let pushes = pair.engines[0].push(0, 1, TOPIC, envelopes).expect("room");
    assert_eq!(
        pushes.len(),
        2,
        "75 KB of envelopes need two frames; the oversized one is left out"
    );
    pair.run();
    let pushed: Vec<_> = pair.events[1]
        .drain(..)
        .filter_map(|e| match e {
            Event::Pushed {
                request, envelopes, ..
            } => Some((request, envelopes.len())),
            _ => None,
        })
        .collect();
    assert_eq!(pushed, vec![(pushes[0], 4), (pushes[1], 1)]);
    pair.engines[1].ack(0, pushes[0], vec![[7; 32]]);
    pair.run();
    assert_eq!(
        pair.events[0].pop(),
        Some(Event::Acked {
            peer: 1,
            ids: vec![[7; 32]]
        })
    );
    assert_eq!(
        pair.engines[0].in_flight(),
        1,
        "the second push is still unacknowledged"
    );
}

#[test]
fn unanswered_requests_time_out_and_late_replies_are_ignored() {
    let config = Config {
        request_timeout_ms: 500,
        ..Config::default()
    };
    let mut engine: SyncEngine<usize> = SyncEngine::new(config);
    let request = engine.fetch(1_000, 9, TOPIC, &[[1; 32]]).expect("room")[0];
    assert!(engine.poll_transmit().is_some());
    assert_eq!(engine.poll_timeout(), Some(1_500));
    engine.handle_timeout(1_499);
    assert_eq!(engine.poll_event(), None);
    engine.handle_timeout(1_500);
    assert_eq!(
        engine.poll_event(),
        Some(Event::Failed {
            peer: 9,
            request,
            topic: TOPIC,
            reason: Failure::Timeout
        })
    );
    assert_eq!(engine.poll_timeout(), None);
    let late = Frame::Fetched {
        request,
        envelopes: vec![vec![1]],
    }
    .encode()
    .expect("encodes");
    let sets: BTreeMap<_, SortedItems> = BTreeMap::new();
    assert_eq!(engine.handle_frame(2_000, 9, &late, &sets), Ok(()));
    assert_eq!(engine.poll_event(), None);
}

#[test]
fn unknown_topics_are_refused() {
    let mut pair = Pair::new(set(0..5), set(0..5), Config::default());
    pair.sets[1].clear();
    let set = pair.sets[0][&TOPIC].clone();
    let request = pair.engines[0].start_sync(0, 1, TOPIC, &set).expect("room");
    pair.run();
    let reason = Failure::Refused(RefuseReason::UnknownTopic);
    assert_eq!(
        pair.events[0],
        vec![Event::Failed {
            peer: 1,
            request,
            topic: TOPIC,
            reason
        }]
    );
}

#[test]
fn requests_beyond_the_in_flight_limit_are_refused_locally() {
    let mut engine: SyncEngine<usize> = SyncEngine::new(Config {
        max_in_flight: 2,
        ..Config::default()
    });
    assert!(engine.fetch(0, 1, TOPIC, &[[1; 32]]).is_ok());
    assert!(engine.start_sync(0, 1, TOPIC, &SortedItems::new()).is_ok());
    assert_eq!(engine.fetch(0, 1, TOPIC, &[[1; 32]]), Err(Busy));
    assert_eq!(
        engine.start_sync(0, 1, TOPIC, &SortedItems::new()),
        Err(Busy)
    );
    engine.peer_gone(&1);
    assert_eq!(engine.in_flight(), 0);
    assert!(engine.fetch(0, 1, TOPIC, &[[1; 32]]).is_ok());
}

#[test]
fn garbage_is_a_decode_error_not_a_panic() {
    let mut engine: SyncEngine<usize> = SyncEngine::new(Config::default());
    let sets: BTreeMap<_, SortedItems> = BTreeMap::new();
    assert!(engine.handle_frame(0, 1, &[], &sets).is_err());
    assert!(engine.handle_frame(0, 1, &[1, 200, 3], &sets).is_err());
    assert!(
        engine
            .handle_frame(0, 1, &vec![1; MAX_FRAME_LEN + 1], &sets)
            .is_err()
    );
    assert!(engine.poll_transmit().is_none() && engine.poll_event().is_none());
}
