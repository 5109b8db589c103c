//! Where the relay listens.

use std::net::SocketAddr;

use libp2p::{Multiaddr, multiaddr::Protocol};

/// Where the relay listens.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Listen {
    /// WebSocket listener (TCP).
    pub websocket: SocketAddr,
    /// WebRTC-direct listener (UDP).
    pub webrtc_direct: SocketAddr,
}

impl Listen {
    /// The listen multiaddrs: `/ip4/…/tcp/…/ws` and `/ip4/…/udp/…/webrtc-direct`.
    pub fn multiaddrs(&self) -> [Multiaddr; 2] {
        let ws = Multiaddr::from(self.websocket.ip())
            .with(Protocol::Tcp(self.websocket.port()))
            .with(Protocol::Ws("/".into()));
        let webrtc = Multiaddr::from(self.webrtc_direct.ip())
            .with(Protocol::Udp(self.webrtc_direct.port()))
            .with(Protocol::WebRTCDirect);
        [ws, webrtc]
    }
}

/// Fails if another process listens on this TCP port.
///
/// libp2p-tcp binds its listeners with SO_REUSEPORT, so a second relay on the same port would
/// start without an error and silently take a share of the first one's connections. A plain
/// bind (no SO_REUSEPORT) fails while anyone listens there. Port 0 needs no check.
pub(super) fn ensure_tcp_port_free(address: SocketAddr) -> std::io::Result<()> {
    if address.port() != 0 {
        drop(std::net::TcpListener::bind(address)?);
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn socket_addresses_become_listen_multiaddrs() {
        let listen = Listen { websocket: "127.0.0.1:4001".parse().unwrap(), webrtc_direct: "[::1]:0".parse().unwrap() };
        let [ws, webrtc] = listen.multiaddrs();
        assert_eq!(ws.to_string(), "/ip4/127.0.0.1/tcp/4001/ws");
        assert_eq!(webrtc.to_string(), "/ip6/::1/udp/0/webrtc-direct");
    }

    #[test]
    fn a_port_in_use_is_found() {
        let taken = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        assert!(ensure_tcp_port_free(taken.local_addr().unwrap()).is_err());
        assert!(ensure_tcp_port_free("127.0.0.1:0".parse().unwrap()).is_ok());
    }
}
