//! A two-engine harness: frames are pumped between peers 0 and 1 until both are idle.
#![allow(dead_code, unreachable_pub)]

use std::collections::BTreeMap;

use chat_sync::{Config, Event, Id, Item, SortedItems, Stats, SyncEngine, Topic};

pub const TOPIC: Topic = [5; 16];

/// An item with a given number, spread over times so that ties on time occur.
pub fn item(n: u64) -> Item {
    let mut id = [0u8; 32];
    id[..8].copy_from_slice(&n.wrapping_mul(0x9e37_79b9_7f4a_7c15).to_be_bytes());
    id[8..16].copy_from_slice(&n.to_le_bytes());
    Item {
        time: 1_000 + n / 4,
        id,
    }
}

pub struct Pair {
    pub engines: [SyncEngine<usize>; 2],
    pub sets: [BTreeMap<Topic, SortedItems>; 2],
    pub events: [Vec<Event<usize>>; 2],
    pub largest_frame: usize,
    pub now: u64,
}

impl Pair {
    pub fn new(a: SortedItems, b: SortedItems, config: Config) -> Self {
        Pair {
            engines: [SyncEngine::new(config.clone()), SyncEngine::new(config)],
            sets: [BTreeMap::from([(TOPIC, a)]), BTreeMap::from([(TOPIC, b)])],
            events: [vec![], vec![]],
            largest_frame: 0,
            now: 0,
        }
    }

    /// Moves frames both ways until none is left; collects events.
    pub fn run(&mut self) {
        loop {
            let mut moved = false;
            for from in 0..2 {
                while let Some(t) = self.engines[from].poll_transmit() {
                    moved = true;
                    self.largest_frame = self.largest_frame.max(t.frame.len());
                    let to = t.peer;
                    assert_eq!(to, 1 - from);
                    let (engine, sets) = (&mut self.engines[to], &self.sets[to]);
                    engine
                        .handle_frame(self.now, from, &t.frame, sets)
                        .expect("frames decode");
                }
            }
            for peer in 0..2 {
                while let Some(event) = self.engines[peer].poll_event() {
                    self.events[peer].push(event);
                }
            }
            if !moved {
                return;
            }
        }
    }

    /// Runs one reconciliation started by peer 0 and returns (need, have, stats).
    pub fn reconcile(&mut self) -> (Vec<Id>, Vec<Id>, Stats) {
        let set = self.sets[0][&TOPIC].clone();
        self.engines[0]
            .start_sync(self.now, 1, TOPIC, &set)
            .expect("room");
        self.run();
        let found = self.events[0].iter().find_map(|e| match e {
            Event::Reconciled {
                need, have, stats, ..
            } => Some((need.clone(), have.clone(), *stats)),
            _ => None,
        });
        found.unwrap_or_else(|| panic!("no Reconciled event: {:?}", self.events[0]))
    }
}

/// Sorted ids of items.
pub fn ids(items: &[Item]) -> Vec<Id> {
    let mut ids: Vec<Id> = items.iter().map(|i| i.id).collect();
    ids.sort_unstable();
    ids
}
