//! Range-based set reconciliation of conversation logs over (time, id): the sync protocol, sans-IO.
