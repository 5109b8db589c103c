//! ICE servers (STUN, TURN) for the `RTCPeerConnection`s: what a deployment configures, checked
//! the same way where it is configured (the platform's flags) and where it is used (the app,
//! reading what the platform serves or what it cached).
//!
//! A local network needs none: host candidates suffice. Across NATs, STUN finds the public
//! address; TURN relays media when no direct path exists and needs a username and credential
//! (browsers refuse a `turn:` server without them when the connection is created).
//!
//! URLs follow RFC 7064 (`stun:`/`stuns:` host, optional port) and RFC 7065 (`turn:`/`turns:`,
//! optionally `?transport=udp|tcp`); no user part, path or other query.

use std::net::Ipv6Addr;

/// Most ICE servers configured; each one is queried while gathering, so more slow it down.
pub const MAX_ICE_SERVERS: usize = 8;
/// Longest URL accepted.
pub const MAX_URL_LEN: usize = 256;
/// Longest TURN username or credential accepted.
pub const MAX_CREDENTIAL_LEN: usize = 256;
/// Longest host name (DNS).
const MAX_HOST_LEN: usize = 253;

/// What an ICE server URL names.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ServerKind {
    /// `stun:` or `stuns:`: takes no credentials.
    Stun,
    /// `turn:` or `turns:`: needs a username and credential.
    Turn,
}

/// Checks an ICE server URL alone (length, scheme, host, port, query); returns what it names.
pub fn check_url(url: &str) -> Result<ServerKind, IceServerError> {
    if url.len() > MAX_URL_LEN {
        return Err(IceServerError::TooLong);
    }
    check_syntax(url)
}

/// One ICE server: a checked URL and, for TURN, its credentials.
#[derive(Clone, PartialEq, Eq)]
pub struct IceServer {
    url: String,
    credentials: Option<Credentials>,
}

#[derive(Clone, PartialEq, Eq)]
struct Credentials {
    username: String,
    credential: String,
}

// The credential is a secret of the deployment: never printed.
impl core::fmt::Debug for IceServer {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("IceServer")
            .field("url", &self.url)
            .field("username", &self.username())
            .finish_non_exhaustive()
    }
}

/// Why an ICE server was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum IceServerError {
    /// The URL is longer than [`MAX_URL_LEN`].
    #[error("an ICE server URL is at most {MAX_URL_LEN} characters")]
    TooLong,
    /// Not `stun:`, `stuns:`, `turn:` or `turns:`.
    #[error("{0:?} is not a stun:, stuns:, turn: or turns: URL")]
    Scheme(String),
    /// The host is missing or not a host name or IP address.
    #[error("{0:?}: the host is not a host name or IP address")]
    Host(String),
    /// The port is not a number from 1 to 65535.
    #[error("{0:?}: the port is not a number from 1 to 65535")]
    Port(String),
    /// A query other than a TURN URL's `?transport=udp` or `?transport=tcp`.
    #[error("{0:?}: only turn: and turns: URLs take a query, ?transport=udp or ?transport=tcp")]
    Query(String),
    /// A TURN server without a username and credential.
    #[error("{0:?}: a TURN server needs a username and a credential")]
    MissingCredentials(String),
    /// A username or credential for a STUN server, which takes none.
    #[error("{0:?}: a STUN server takes no username or credential")]
    UnexpectedCredentials(String),
    /// An empty or over-long username or credential, or one with control characters.
    #[error("a TURN username or credential must be 1 to {MAX_CREDENTIAL_LEN} characters, none a control character")]
    Credential,
    /// More than [`MAX_ICE_SERVERS`].
    #[error("at most {MAX_ICE_SERVERS} ICE servers")]
    TooMany,
}

impl IceServer {
    /// Checks `url` and, for a TURN server, its `username` and `credential`.
    pub fn new(
        url: &str,
        username: Option<&str>,
        credential: Option<&str>,
    ) -> Result<Self, IceServerError> {
        let turn = check_url(url)? == ServerKind::Turn;
        let credentials = match (username, credential) {
            (None, None) if turn => return Err(IceServerError::MissingCredentials(url.to_owned())),
            (None, None) => None,
            _ if !turn => return Err(IceServerError::UnexpectedCredentials(url.to_owned())),
            (Some(username), Some(credential)) => Some(Credentials {
                username: check_credential(username)?,
                credential: check_credential(credential)?,
            }),
            _ => return Err(IceServerError::MissingCredentials(url.to_owned())),
        };
        Ok(Self {
            url: url.to_owned(),
            credentials,
        })
    }

    /// An entry of a deployment's list, where one username and credential serve every TURN
    /// server: they go with `url` if it is a TURN URL and are left out for a STUN one.
    pub fn with_shared_credentials(
        url: &str,
        username: Option<&str>,
        credential: Option<&str>,
    ) -> Result<Self, IceServerError> {
        match check_url(url)? {
            ServerKind::Turn => Self::new(url, username, credential),
            ServerKind::Stun => Self::new(url, None, None),
        }
    }

    /// The URL (`RTCIceServer.urls`).
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The TURN username (`RTCIceServer.username`).
    pub fn username(&self) -> Option<&str> {
        self.credentials.as_ref().map(|c| c.username.as_str())
    }

    /// The TURN credential (`RTCIceServer.credential`).
    pub fn credential(&self) -> Option<&str> {
        self.credentials.as_ref().map(|c| c.credential.as_str())
    }
}

/// Checks that a list holds at most [`MAX_ICE_SERVERS`].
pub fn check_count(servers: &[IceServer]) -> Result<(), IceServerError> {
    if servers.len() > MAX_ICE_SERVERS {
        return Err(IceServerError::TooMany);
    }
    Ok(())
}

fn check_syntax(url: &str) -> Result<ServerKind, IceServerError> {
    let (scheme, rest) = url
        .split_once(':')
        .ok_or_else(|| IceServerError::Scheme(url.to_owned()))?;
    let turn = match scheme {
        "stun" | "stuns" => false,
        "turn" | "turns" => true,
        _ => return Err(IceServerError::Scheme(url.to_owned())),
    };
    let (authority, query) = match rest.split_once('?') {
        Some((authority, query)) => (authority, Some(query)),
        None => (rest, None),
    };
    match query {
        None => {}
        Some("transport=udp" | "transport=tcp") if turn => {}
        Some(_) => return Err(IceServerError::Query(url.to_owned())),
    }
    let (host, port) = split_host_port(authority).ok_or_else(|| IceServerError::Host(url.to_owned()))?;
    if !is_host(host) {
        return Err(IceServerError::Host(url.to_owned()));
    }
    if let Some(port) = port {
        let valid = port.bytes().all(|b| b.is_ascii_digit()) && port.parse::<u16>().is_ok_and(|p| p > 0);
        if !valid {
            return Err(IceServerError::Port(url.to_owned()));
        }
    }
    Ok(if turn { ServerKind::Turn } else { ServerKind::Stun })
}

/// `host[:port]` or `[ipv6][:port]`.
fn split_host_port(authority: &str) -> Option<(&str, Option<&str>)> {
    if let Some(bracketed) = authority.strip_prefix('[') {
        let (address, rest) = bracketed.split_once(']')?;
        address.parse::<Ipv6Addr>().ok()?;
        return match rest {
            "" => Some((address, None)),
            _ => Some((address, Some(rest.strip_prefix(':')?))),
        };
    }
    Some(match authority.split_once(':') {
        Some((host, port)) => (host, Some(port)),
        None => (authority, None),
    })
}

/// A DNS name, an IPv4 address, or (already checked) an IPv6 address.
fn is_host(host: &str) -> bool {
    if host.parse::<Ipv6Addr>().is_ok() {
        return true;
    }
    let labels_ok = host
        .split('.')
        .all(|label| !label.is_empty() && !label.starts_with('-') && !label.ends_with('-'));
    let chars_ok = host
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'.');
    !host.is_empty() && host.len() <= MAX_HOST_LEN && labels_ok && chars_ok
}

fn check_credential(text: &str) -> Result<String, IceServerError> {
    let valid = !text.is_empty()
        && text.chars().count() <= MAX_CREDENTIAL_LEN
        && !text.chars().any(char::is_control);
    if valid {
        Ok(text.to_owned())
    } else {
        Err(IceServerError::Credential)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stun_and_turn_urls_of_the_rfcs_are_accepted() {
        for url in [
            "stun:stun.example.org",
            "stun:stun.example.org:3478",
            "stuns:192.0.2.1:5349",
            "stun:[2001:db8::1]:3478",
            "stun:[2001:db8::1]",
        ] {
            let server = IceServer::new(url, None, None).unwrap();
            assert_eq!((server.url(), server.username(), server.credential()), (url, None, None));
        }
        for url in [
            "turn:turn.example.org",
            "turn:turn.example.org:3478?transport=udp",
            "turns:turn.example.org:5349?transport=tcp",
        ] {
            let server = IceServer::new(url, Some("user"), Some("secret")).unwrap();
            assert_eq!(server.username(), Some("user"));
            assert_eq!(server.credential(), Some("secret"));
        }
    }

    #[test]
    fn malformed_urls_are_refused_with_their_reason() {
        let refused = |url: &str| IceServer::new(url, None, None).unwrap_err();
        assert!(matches!(refused("http://stun.example.org"), IceServerError::Scheme(_)));
        assert!(matches!(refused("stun.example.org"), IceServerError::Scheme(_)));
        assert!(matches!(refused("stun:"), IceServerError::Host(_)));
        assert!(matches!(refused("stun://stun.example.org"), IceServerError::Host(_)));
        assert!(matches!(refused("stun:user@stun.example.org"), IceServerError::Host(_)));
        assert!(matches!(refused("stun:exa mple.org"), IceServerError::Host(_)));
        assert!(matches!(refused("stun:-bad.example.org"), IceServerError::Host(_)));
        assert!(matches!(refused("stun:[2001:db8::zz]:3478"), IceServerError::Host(_)));
        assert!(matches!(refused("stun:example.org:0"), IceServerError::Port(_)));
        assert!(matches!(refused("stun:example.org:65536"), IceServerError::Port(_)));
        assert!(matches!(refused("stun:example.org:+1"), IceServerError::Port(_)));
        assert!(matches!(refused("stun:example.org:"), IceServerError::Port(_)));
        assert!(matches!(refused("stun:example.org?transport=udp"), IceServerError::Query(_)));
        let turn = |query: &str| IceServer::new(&format!("turn:t.example.org{query}"), Some("u"), Some("c"));
        assert!(matches!(turn("?transport=sctp"), Err(IceServerError::Query(_))));
        assert!(matches!(turn("/path"), Err(IceServerError::Host(_))));
        let long = format!("stun:{}.org", "a".repeat(MAX_URL_LEN));
        assert_eq!(refused(&long), IceServerError::TooLong);
    }

    #[test]
    fn credentials_go_with_turn_only_and_are_bounded() {
        let turn = "turn:turn.example.org";
        assert!(matches!(IceServer::new(turn, None, None), Err(IceServerError::MissingCredentials(_))));
        assert!(matches!(IceServer::new(turn, Some("u"), None), Err(IceServerError::MissingCredentials(_))));
        assert!(matches!(IceServer::new(turn, None, Some("c")), Err(IceServerError::MissingCredentials(_))));
        let stun = "stun:stun.example.org";
        assert!(matches!(
            IceServer::new(stun, Some("u"), Some("c")),
            Err(IceServerError::UnexpectedCredentials(_))
        ));
        let long = "x".repeat(MAX_CREDENTIAL_LEN + 1);
        for (user, secret) in [("", "c"), ("u", ""), ("u\n", "c"), ("u", long.as_str())] {
            assert_eq!(IceServer::new(turn, Some(user), Some(secret)), Err(IceServerError::Credential));
        }
    }

    #[test]
    fn shared_credentials_go_to_turn_servers_only() {
        let (user, secret) = (Some("u"), Some("c"));
        let stun = IceServer::with_shared_credentials("stun:s.example.org", user, secret).unwrap();
        assert_eq!((stun.username(), stun.credential()), (None, None));
        let turn = IceServer::with_shared_credentials("turns:t.example.org", user, secret).unwrap();
        assert_eq!((turn.username(), turn.credential()), (user, secret));
        let bare = IceServer::with_shared_credentials("turn:t.example.org", None, None);
        assert!(matches!(bare, Err(IceServerError::MissingCredentials(_))));
        let bad = IceServer::with_shared_credentials("ftp:t.example.org", user, secret);
        assert!(matches!(bad, Err(IceServerError::Scheme(_))));
    }

    #[test]
    fn the_credential_is_not_printed() {
        let server = IceServer::new("turn:t.example.org", Some("user"), Some("hunter2-secret")).unwrap();
        let printed = format!("{server:?}");
        assert!(printed.contains("user") && !printed.contains("hunter2"), "{printed}");
    }

    #[test]
    fn lists_are_bounded() {
        let server = IceServer::new("stun:stun.example.org", None, None).unwrap();
        assert_eq!(check_count(&vec![server.clone(); MAX_ICE_SERVERS]), Ok(()));
        assert_eq!(check_count(&vec![server; MAX_ICE_SERVERS + 1]), Err(IceServerError::TooMany));
    }
}
