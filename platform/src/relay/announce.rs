//! The relay's part of the stdout contract: one line per listen address.

use std::io::Write as _;

use libp2p::Multiaddr;

/// Prefix of the line printed for each relay listen address; the rest of the line is the full
/// multiaddr, ending in `/p2p/<peer id>` (and for WebRTC-direct holding `/certhash/…`).
pub const RELAY_LISTENING: &str = "relay listening on ";

/// Prints `relay listening on <address>` and flushes, so a reader of the pipe sees it at once.
pub(super) fn listening(address: &Multiaddr) {
    let mut stdout = std::io::stdout().lock();
    if let Err(error) = writeln!(stdout, "{RELAY_LISTENING}{address}").and_then(|()| stdout.flush()) {
        tracing::warn!(%error, %address, "cannot print the relay address on stdout");
    }
}
