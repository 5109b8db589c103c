//! Chat core, sans-IO: signed message envelopes, hybrid logical clock, causal conversation log, outbox, storage traits.
