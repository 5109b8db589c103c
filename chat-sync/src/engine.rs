//! The sync state machine: sessions with many peers, driven by frames and time.
//!
//! # Calling convention (as in quinn-proto)
//! - Inputs: [`SyncEngine::handle_frame`] for every frame a peer sent,
//!   [`SyncEngine::handle_timeout`] when the time returned by [`SyncEngine::poll_timeout`] has
//!   come, and the commands [`SyncEngine::start_sync`], [`SyncEngine::fetch`],
//!   [`SyncEngine::push`], [`SyncEngine::answer_fetch`], [`SyncEngine::ack`].
//! - Outputs: after any input, drain [`SyncEngine::poll_transmit`] (frames to send) and
//!   [`SyncEngine::poll_event`] (what the application must act on).
//! - `now` is milliseconds on any clock that never goes backwards; the engine never reads a
//!   clock. Request ids come from a counter, so two engines with the same inputs behave the
//!   same.
//!
//! Every request frame carries a fresh [`RequestId`] that its reply echoes; a reply to an
//! unknown or expired request is ignored (except `Ack`, which is always reported: an ack for a
//! retried push still proves delivery).

use std::collections::{BTreeMap, BTreeSet, VecDeque};

use crate::items::{Id, ItemSet};
use crate::protocol::{
    DecodeError, Frame, MAX_ENVELOPE_LEN, MAX_ENVELOPES, MAX_FRAME_LEN, MAX_IDS, RefuseReason,
    RequestId, Topic,
};
use crate::reconcile::{self, ProtocolViolation, Resolved, Role};

/// Limits and timeouts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Config {
    /// A request without reply after this long fails with [`Failure::Timeout`].
    pub request_timeout_ms: u64,
    /// Largest frame this engine produces; at least [`MIN_FRAME_LIMIT`], at most [`MAX_FRAME_LEN`].
    pub frame_limit: usize,
    /// A reconciliation that needs more rounds fails with [`Failure::TooManyRounds`].
    pub max_rounds: u32,
    /// Most requests of ours awaiting a reply; more are refused with [`Busy`].
    pub max_in_flight: usize,
    /// Most frames and events queued for the application; past it, incoming requests are
    /// dropped (their senders time out) so that local work goes first.
    pub max_queued: usize,
}

/// Smallest usable frame limit: room for the largest single step of the reconciliation.
pub const MIN_FRAME_LIMIT: usize = 2 * reconcile::WORST_STEP;

impl Default for Config {
    fn default() -> Self {
        Self {
            request_timeout_ms: 10_000,
            frame_limit: MAX_FRAME_LEN,
            max_rounds: 32,
            max_in_flight: 256,
            max_queued: 4096,
        }
    }
}

/// Too many requests in flight: poll, wait for replies or timeouts, then retry.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many requests in flight")]
pub struct Busy;

/// A frame to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Transmit<P> {
    /// To whom.
    pub peer: P,
    /// The encoded frame.
    pub frame: Vec<u8>,
}

/// Figures of one reconciliation, for benchmarks and logs.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Stats {
    /// Request/reply exchanges.
    pub round_trips: u32,
    /// Bytes of the frames we sent.
    pub bytes_sent: u64,
    /// Bytes of the frames we received.
    pub bytes_received: u64,
}

/// Why a request of ours failed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Failure {
    /// No reply in time.
    Timeout,
    /// The peer refused.
    Refused(RefuseReason),
    /// The reconciliation did not finish within `max_rounds`.
    TooManyRounds,
    /// The peer's reply broke the protocol.
    ProtocolError,
    /// Our own set for the topic is gone.
    UnknownTopic,
}

/// What the application must act on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Event<P> {
    /// A reconciliation we started is complete.
    Reconciled {
        /// With whom.
        peer: P,
        /// Which conversation.
        topic: Topic,
        /// Ids the peer has and we lack: [`SyncEngine::fetch`] them.
        need: Vec<Id>,
        /// Ids we have and the peer lacks: [`SyncEngine::push`] them.
        have: Vec<Id>,
        /// Round trips and bytes.
        stats: Stats,
    },
    /// The peer asks for envelopes: answer with [`SyncEngine::answer_fetch`].
    FetchRequested {
        /// Who asks.
        peer: P,
        /// To echo.
        request: RequestId,
        /// Which conversation.
        topic: Topic,
        /// Which messages.
        ids: Vec<Id>,
    },
    /// The peer pushed envelopes: store them, then [`SyncEngine::ack`] the stored ids.
    Pushed {
        /// Who sent them.
        peer: P,
        /// To echo in the ack.
        request: RequestId,
        /// Which conversation.
        topic: Topic,
        /// Envelope bytes (unverified).
        envelopes: Vec<Vec<u8>>,
    },
    /// Envelopes answering our fetch.
    Fetched {
        /// From whom.
        peer: P,
        /// Which conversation.
        topic: Topic,
        /// Envelope bytes (unverified).
        envelopes: Vec<Vec<u8>>,
    },
    /// The peer has stored these messages.
    Acked {
        /// Who stored them.
        peer: P,
        /// Message ids.
        ids: Vec<Id>,
    },
    /// A request of ours failed.
    Failed {
        /// With whom.
        peer: P,
        /// The request.
        request: RequestId,
        /// Which conversation.
        topic: Topic,
        /// Why.
        reason: Failure,
    },
}

/// Gives the engine the item set of a conversation.
pub trait Topics {
    /// The set type.
    type Set: ItemSet + ?Sized;
    /// The set of `topic`, or `None` if we do not hold it.
    fn items(&self, topic: &Topic) -> Option<&Self::Set>;
}

impl<S: ItemSet> Topics for BTreeMap<Topic, S> {
    type Set = S;
    fn items(&self, topic: &Topic) -> Option<&S> {
        self.get(topic)
    }
}

#[derive(Debug)]
enum Kind {
    Reconcile {
        have: BTreeSet<Id>,
        need: BTreeSet<Id>,
        stats: Stats,
    },
    Fetch,
    Push,
}

#[derive(Debug)]
struct Outstanding {
    topic: Topic,
    deadline: u64,
    kind: Kind,
}

/// The sync state machine for one device.
#[derive(Debug)]
pub struct SyncEngine<P> {
    config: Config,
    next_request: RequestId,
    outstanding: BTreeMap<(P, RequestId), Outstanding>,
    transmits: VecDeque<Transmit<P>>,
    events: VecDeque<Event<P>>,
}

impl<P: Clone + Ord> SyncEngine<P> {
    /// A new engine. `frame_limit` is clamped into `MIN_FRAME_LIMIT..=MAX_FRAME_LEN`.
    pub fn new(mut config: Config) -> Self {
        config.frame_limit = config.frame_limit.clamp(MIN_FRAME_LIMIT, MAX_FRAME_LEN);
        Self {
            config,
            next_request: 1,
            outstanding: BTreeMap::new(),
            transmits: VecDeque::new(),
            events: VecDeque::new(),
        }
    }

    /// Requests of ours awaiting a reply.
    pub fn in_flight(&self) -> usize {
        self.outstanding.len()
    }

    /// Starts reconciling `topic` with `peer`; ends with [`Event::Reconciled`] or [`Event::Failed`].
    pub fn start_sync<S: ItemSet + ?Sized>(
        &mut self,
        now: u64,
        peer: P,
        topic: Topic,
        set: &S,
    ) -> Result<RequestId, Busy> {
        self.check_room()?;
        let ranges = reconcile::initiate(set);
        let kind = Kind::Reconcile {
            have: BTreeSet::new(),
            need: BTreeSet::new(),
            stats: Stats::default(),
        };
        Ok(self.send_reconcile(now, peer, topic, ranges, kind))
    }

    /// Asks `peer` for envelopes by id, in requests of at most [`MAX_IDS`] ids.
    pub fn fetch(
        &mut self,
        now: u64,
        peer: P,
        topic: Topic,
        ids: &[Id],
    ) -> Result<Vec<RequestId>, Busy> {
        let chunks: Vec<&[Id]> = ids.chunks(MAX_IDS).collect();
        if self.outstanding.len() + chunks.len() > self.config.max_in_flight {
            return Err(Busy);
        }
        Ok(chunks
            .into_iter()
            .map(|chunk| {
                let request = self.new_request(now, &peer, topic, Kind::Fetch);
                self.queue(
                    peer.clone(),
                    &Frame::Fetch {
                        request,
                        topic,
                        ids: chunk.to_vec(),
                    },
                );
                request
            })
            .collect())
    }

    /// Pushes envelopes to `peer`, split into frames within the frame limit. Envelopes longer
    /// than [`MAX_ENVELOPE_LEN`] are left out (they could never be decoded).
    pub fn push(
        &mut self,
        now: u64,
        peer: P,
        topic: Topic,
        envelopes: Vec<Vec<u8>>,
    ) -> Result<Vec<RequestId>, Busy> {
        let frames = self.pack(envelopes);
        if self.outstanding.len() + frames.len() > self.config.max_in_flight {
            return Err(Busy);
        }
        Ok(frames
            .into_iter()
            .map(|envelopes| {
                let request = self.new_request(now, &peer, topic, Kind::Push);
                self.queue(
                    peer.clone(),
                    &Frame::Push {
                        request,
                        topic,
                        envelopes,
                    },
                );
                request
            })
            .collect())
    }

    /// Answers an [`Event::FetchRequested`] with the envelopes found; those past the frame
    /// limit are left out (the peer asks again).
    pub fn answer_fetch(&mut self, peer: P, request: RequestId, envelopes: Vec<Vec<u8>>) {
        let envelopes = self.pack(envelopes).into_iter().next().unwrap_or_default();
        self.queue(peer, &Frame::Fetched { request, envelopes });
    }

    /// Answers an [`Event::Pushed`] with the ids now stored.
    pub fn ack(&mut self, peer: P, request: RequestId, ids: Vec<Id>) {
        for chunk in ids.chunks(MAX_IDS) {
            self.queue(
                peer.clone(),
                &Frame::Ack {
                    request,
                    ids: chunk.to_vec(),
                },
            );
        }
        if ids.is_empty() {
            self.queue(peer, &Frame::Ack { request, ids });
        }
    }

    /// Forgets every request to `peer` (its connection closed), failing each.
    pub fn peer_gone(&mut self, peer: &P) {
        let keys: Vec<(P, RequestId)> = self
            .outstanding
            .keys()
            .filter(|(p, _)| p == peer)
            .cloned()
            .collect();
        for key in keys {
            self.fail(key, Failure::Timeout);
        }
    }

    /// Handles one frame from `peer`. A frame that does not decode is an error (the caller may
    /// close the connection); a well-formed frame never is.
    pub fn handle_frame<T: Topics>(
        &mut self,
        now: u64,
        peer: P,
        bytes: &[u8],
        topics: &T,
    ) -> Result<(), DecodeError> {
        let frame = Frame::decode(bytes)?;
        let received = bytes.len() as u64;
        match frame {
            Frame::Reconcile {
                request,
                topic,
                ranges,
            } => {
                if self.is_full() {
                    return Ok(());
                }
                let reply = match topics.items(&topic) {
                    None => Frame::Refused {
                        request,
                        reason: RefuseReason::UnknownTopic,
                    },
                    Some(set) => {
                        match reconcile::process(
                            set,
                            &ranges,
                            Role::Responder,
                            self.config.frame_limit,
                            &mut Resolved::default(),
                        ) {
                            Ok(ranges) => Frame::Ranges { request, ranges },
                            Err(ProtocolViolation) => Frame::Refused {
                                request,
                                reason: RefuseReason::ProtocolError,
                            },
                        }
                    }
                };
                self.queue(peer, &reply);
            }
            Frame::Ranges { request, ranges } => {
                self.handle_ranges(now, peer, request, &ranges, received, topics)
            }
            Frame::Fetch {
                request,
                topic,
                ids,
            } => {
                if !self.is_full() {
                    self.events.push_back(Event::FetchRequested {
                        peer,
                        request,
                        topic,
                        ids,
                    });
                }
            }
            Frame::Fetched { request, envelopes } => {
                if let Some(Outstanding {
                    topic,
                    kind: Kind::Fetch,
                    ..
                }) = self.take(&peer, request, |k| matches!(k, Kind::Fetch))
                {
                    self.events.push_back(Event::Fetched {
                        peer,
                        topic,
                        envelopes,
                    });
                }
            }
            Frame::Push {
                request,
                topic,
                envelopes,
            } => {
                if !self.is_full() {
                    self.events.push_back(Event::Pushed {
                        peer,
                        request,
                        topic,
                        envelopes,
                    });
                }
            }
            Frame::Ack { request, ids } => {
                self.take(&peer, request, |k| matches!(k, Kind::Push));
                self.events.push_back(Event::Acked { peer, ids });
            }
            Frame::Refused { request, reason } => {
                if self.outstanding.contains_key(&(peer.clone(), request)) {
                    self.fail((peer, request), Failure::Refused(reason));
                }
            }
        }
        Ok(())
    }

    /// Fails every request whose deadline is at or before `now`.
    pub fn handle_timeout(&mut self, now: u64) {
        let expired: Vec<(P, RequestId)> = self
            .outstanding
            .iter()
            .filter(|(_, o)| o.deadline <= now)
            .map(|(k, _)| k.clone())
            .collect();
        for key in expired {
            self.fail(key, Failure::Timeout);
        }
    }

    /// The next frame to send.
    #[must_use]
    pub fn poll_transmit(&mut self) -> Option<Transmit<P>> {
        self.transmits.pop_front()
    }

    /// The next event to act on.
    #[must_use]
    pub fn poll_event(&mut self) -> Option<Event<P>> {
        self.events.pop_front()
    }

    /// When [`SyncEngine::handle_timeout`] should next be called.
    #[must_use]
    pub fn poll_timeout(&self) -> Option<u64> {
        self.outstanding.values().map(|o| o.deadline).min()
    }

    fn handle_ranges<T: Topics>(
        &mut self,
        now: u64,
        peer: P,
        request: RequestId,
        ranges: &[crate::protocol::Range],
        received: u64,
        topics: &T,
    ) {
        let Some(Outstanding {
            topic,
            kind:
                Kind::Reconcile {
                    mut have,
                    mut need,
                    mut stats,
                },
            ..
        }) = self.take(&peer, request, |k| matches!(k, Kind::Reconcile { .. }))
        else {
            return;
        };
        stats.round_trips += 1;
        stats.bytes_received += received;
        let Some(set) = topics.items(&topic) else {
            self.events.push_back(Event::Failed {
                peer,
                request,
                topic,
                reason: Failure::UnknownTopic,
            });
            return;
        };
        let mut resolved = Resolved::default();
        let next = match reconcile::process(
            set,
            ranges,
            Role::Initiator,
            self.config.frame_limit,
            &mut resolved,
        ) {
            Ok(next) => next,
            Err(ProtocolViolation) => {
                self.events.push_back(Event::Failed {
                    peer,
                    request,
                    topic,
                    reason: Failure::ProtocolError,
                });
                return;
            }
        };
        have.extend(resolved.have);
        need.extend(resolved.need);
        if reconcile::all_skip(&next) {
            let (have, need) = (have.into_iter().collect(), need.into_iter().collect());
            self.events.push_back(Event::Reconciled {
                peer,
                topic,
                need,
                have,
                stats,
            });
        } else if stats.round_trips >= self.config.max_rounds {
            self.events.push_back(Event::Failed {
                peer,
                request,
                topic,
                reason: Failure::TooManyRounds,
            });
        } else {
            self.send_reconcile(
                now,
                peer,
                topic,
                next,
                Kind::Reconcile { have, need, stats },
            );
        }
    }

    fn send_reconcile(
        &mut self,
        now: u64,
        peer: P,
        topic: Topic,
        ranges: Vec<crate::protocol::Range>,
        mut kind: Kind,
    ) -> RequestId {
        let request = self.next_request;
        let frame = Frame::Reconcile {
            request,
            topic,
            ranges,
        };
        let sent = self.queue(peer.clone(), &frame);
        if let Kind::Reconcile { stats, .. } = &mut kind {
            stats.bytes_sent += sent as u64;
        }
        self.new_request(now, &peer, topic, kind)
    }

    fn new_request(&mut self, now: u64, peer: &P, topic: Topic, kind: Kind) -> RequestId {
        let request = self.next_request;
        self.next_request += 1;
        let deadline = now.saturating_add(self.config.request_timeout_ms);
        self.outstanding.insert(
            (peer.clone(), request),
            Outstanding {
                topic,
                deadline,
                kind,
            },
        );
        request
    }

    fn take(
        &mut self,
        peer: &P,
        request: RequestId,
        expected: impl Fn(&Kind) -> bool,
    ) -> Option<Outstanding> {
        let key = (peer.clone(), request);
        match self.outstanding.get(&key) {
            Some(o) if expected(&o.kind) => self.outstanding.remove(&key),
            _ => None,
        }
    }

    fn fail(&mut self, key: (P, RequestId), reason: Failure) {
        if let Some(o) = self.outstanding.remove(&key) {
            let (peer, request) = key;
            self.events.push_back(Event::Failed {
                peer,
                request,
                topic: o.topic,
                reason,
            });
        }
    }

    fn check_room(&self) -> Result<(), Busy> {
        if self.outstanding.len() >= self.config.max_in_flight {
            Err(Busy)
        } else {
            Ok(())
        }
    }

    fn is_full(&self) -> bool {
        self.transmits.len() + self.events.len() >= self.config.max_queued
    }

    /// Encodes and queues a frame; returns its length. Frames built here are within limits by
    /// construction, so an encoding failure is a bug in this crate and the frame is dropped.
    fn queue(&mut self, peer: P, frame: &Frame) -> usize {
        match frame.encode() {
            Ok(bytes) => {
                let len = bytes.len();
                self.transmits.push_back(Transmit { peer, frame: bytes });
                len
            }
            Err(_) => 0,
        }
    }

    /// Splits envelopes into groups that each fit one frame.
    fn pack(&self, envelopes: Vec<Vec<u8>>) -> Vec<Vec<Vec<u8>>> {
        // Frame header: version, tag, request (≤ 10), topic (16), list length (≤ 3).
        const HEADER: usize = 1 + 1 + 10 + 16 + 3;
        let mut frames: Vec<Vec<Vec<u8>>> = Vec::new();
        let mut size = HEADER;
        for envelope in envelopes
            .into_iter()
            .filter(|e| e.len() <= MAX_ENVELOPE_LEN)
        {
            let cost = envelope.len() + 3;
            match frames.last_mut() {
                Some(last)
                    if size + cost <= self.config.frame_limit && last.len() < MAX_ENVELOPES =>
                {
                    size += cost;
                    last.push(envelope);
                }
                _ => {
                    size = HEADER + cost;
                    frames.push(vec![envelope]);
                }
            }
        }
        frames
    }
}
