//! What an out-of-band blob keeps of a browser's data-channel SDP, and the SDP rebuilt from it.
//!
//! Kept: `a=ice-ufrag`, `a=ice-pwd`, `a=fingerprint`, `a=setup`, `a=mid`, `a=sctp-port`,
//! `a=max-message-size` and every `a=candidate` of the one `m=application` section
//! (media-level attributes win over session-level ones, as Firefox puts the fingerprint at
//! session level). Dropped: origin and timing lines, `a=ice-options`, `a=extmap-allow-mixed`,
//! candidate foundations (rebuilt as the candidate's position, 1-based) and candidate
//! extensions (`generation`, `network-id`, `network-cost`, `ufrag`), none of which the
//! receiving browser needs. The fingerprint and setup role are kept exactly: the browser checks
//! the DTLS certificate against that fingerprint (`WEBRTC.md` §2, §6).
//!
//! Every string that goes back into an SDP is checked against a strict character set
//! (ICE characters, tokens, host names), so a blob can never inject SDP lines.

use core::fmt::Write as _;
use core::net::{Ipv4Addr, Ipv6Addr};

/// Most candidates a blob carries.
pub const MAX_CANDIDATES: usize = 16;
/// Longest `mid` kept.
pub const MAX_MID_LEN: usize = 32;
/// Longest host name in a candidate.
pub const MAX_HOST_LEN: usize = 253;

/// Why an SDP could not be reduced to [`SessionParams`].
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SdpError {
    /// Not exactly one `m=application` section.
    #[error("expected exactly one m=application section")]
    Media,
    /// A required attribute is absent.
    #[error("missing a={0}")]
    Missing(&'static str),
    /// An attribute's value is malformed or out of range.
    #[error("malformed a={0}")]
    Malformed(&'static str),
    /// A candidate line this encoding cannot carry (quoted back, truncated to 80 chars).
    #[error("unsupported candidate: {0}")]
    Candidate(String),
    /// More than [`MAX_CANDIDATES`] candidates.
    #[error("more than {MAX_CANDIDATES} candidates")]
    TooManyCandidates,
}

/// Hash function of `a=fingerprint`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HashAlgorithm {
    /// `sha-256`, 32 bytes (what browsers use).
    Sha256,
    /// `sha-384`, 48 bytes.
    Sha384,
    /// `sha-512`, 64 bytes.
    Sha512,
}

impl HashAlgorithm {
    /// Digest length in bytes.
    pub fn digest_len(self) -> usize {
        match self {
            Self::Sha256 => 32,
            Self::Sha384 => 48,
            Self::Sha512 => 64,
        }
    }

    /// The SDP name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Sha256 => "sha-256",
            Self::Sha384 => "sha-384",
            Self::Sha512 => "sha-512",
        }
    }

    pub(crate) const ALL: [Self; 3] = [Self::Sha256, Self::Sha384, Self::Sha512];
}

/// `a=setup` (RFC 8842).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Setup {
    /// `actpass` (offers).
    ActPass,
    /// `active`.
    Active,
    /// `passive`.
    Passive,
}

impl Setup {
    pub(crate) const ALL: [Self; 3] = [Self::ActPass, Self::Active, Self::Passive];

    /// The SDP name.
    pub fn name(self) -> &'static str {
        match self {
            Self::ActPass => "actpass",
            Self::Active => "active",
            Self::Passive => "passive",
        }
    }
}

/// Candidate type (`typ`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CandidateType {
    /// `host`.
    Host,
    /// `srflx`.
    ServerReflexive,
    /// `prflx`.
    PeerReflexive,
    /// `relay`.
    Relay,
}

impl CandidateType {
    pub(crate) const ALL: [Self; 4] = [
        Self::Host,
        Self::ServerReflexive,
        Self::PeerReflexive,
        Self::Relay,
    ];

    /// The SDP name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Host => "host",
            Self::ServerReflexive => "srflx",
            Self::PeerReflexive => "prflx",
            Self::Relay => "relay",
        }
    }
}

/// `tcptype` of a TCP candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TcpType {
    /// `active`.
    Active,
    /// `passive`.
    Passive,
    /// `so` (simultaneous open).
    So,
}

impl TcpType {
    pub(crate) const ALL: [Self; 3] = [Self::Active, Self::Passive, Self::So];

    /// The SDP name.
    pub fn name(self) -> &'static str {
        match self {
            Self::Active => "active",
            Self::Passive => "passive",
            Self::So => "so",
        }
    }
}

/// A candidate's connection address.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Address {
    /// IPv4.
    V4(Ipv4Addr),
    /// IPv6.
    V6(Ipv6Addr),
    /// An mDNS name `<uuid>.local` (Chrome, Safari), the UUID as 16 bytes.
    Mdns([u8; 16]),
    /// Any other host name (`[A-Za-z0-9.-]`, at most [`MAX_HOST_LEN`]).
    Host(String),
}

impl Address {
    fn parse(text: &str) -> Option<Self> {
        if let Ok(v4) = text.parse() {
            return Some(Self::V4(v4));
        }
        if let Ok(v6) = text.parse() {
            return Some(Self::V6(v6));
        }
        if let Some(uuid) = text.strip_suffix(".local").and_then(parse_uuid) {
            return Some(Self::Mdns(uuid));
        }
        is_host_name(text).then(|| Self::Host(text.to_owned()))
    }

    fn write(&self, out: &mut String) {
        match self {
            Self::V4(ip) => out.push_str(&ip.to_string()),
            Self::V6(ip) => out.push_str(&ip.to_string()),
            Self::Mdns(uuid) => {
                for (i, byte) in uuid.iter().enumerate() {
                    if matches!(i, 4 | 6 | 8 | 10) {
                        out.push('-');
                    }
                    let _ = write!(out, "{byte:02x}");
                }
                out.push_str(".local");
            }
            Self::Host(name) => out.push_str(name),
        }
    }
}

/// `[A-Za-z0-9.-]{1,253}`.
pub(crate) fn is_host_name(text: &str) -> bool {
    (1..=MAX_HOST_LEN).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'-')
}

/// A lowercase, hyphenated UUID exactly as Chrome writes it (so the name round-trips).
fn parse_uuid(text: &str) -> Option<[u8; 16]> {
    let bytes = text.as_bytes();
    if bytes.len() != 36 {
        return None;
    }
    let mut out = [0u8; 16];
    let mut nibbles = 0;
    for (i, &c) in bytes.iter().enumerate() {
        if matches!(i, 8 | 13 | 18 | 23) {
            if c != b'-' {
                return None;
            }
            continue;
        }
        let digit = match c {
            b'0'..=b'9' => c - b'0',
            b'a'..=b'f' => c - b'a' + 10,
            _ => return None,
        };
        out[nibbles / 2] |= digit << if nibbles % 2 == 0 { 4 } else { 0 };
        nibbles += 1;
    }
    Some(out)
}

/// One ICE candidate, component 1.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Candidate {
    /// `typ`.
    pub kind: CandidateType,
    /// `None` for UDP, `Some(tcptype)` for TCP (`None` inside for a TCP candidate without one).
    pub tcp: Option<Option<TcpType>>,
    /// Priority.
    pub priority: u32,
    /// Connection address.
    pub address: Address,
    /// Port.
    pub port: u16,
    /// `raddr`/`rport`, if given.
    pub related: Option<(Address, u16)>,
}

impl Candidate {
    /// Parses the value of an `a=candidate:` attribute (after the colon).
    fn parse(value: &str) -> Option<Self> {
        let mut tokens = value.split(' ');
        let _foundation = tokens.next()?;
        if tokens.next()? != "1" {
            return None;
        }
        let transport = tokens.next()?;
        let priority = tokens.next()?.parse().ok()?;
        let address = Address::parse(tokens.next()?)?;
        let port = tokens.next()?.parse().ok()?;
        if tokens.next()? != "typ" {
            return None;
        }
        let kind_name = tokens.next()?;
        let kind = *CandidateType::ALL.iter().find(|t| t.name() == kind_name)?;
        let (mut raddr, mut rport, mut tcptype) = (None, None, None);
        while let Some(name) = tokens.next() {
            let value = tokens.next()?;
            match name {
                "raddr" => raddr = Some(Address::parse(value)?),
                "rport" => rport = Some(value.parse().ok()?),
                "tcptype" => tcptype = Some(*TcpType::ALL.iter().find(|t| t.name() == value)?),
                _ => {}
            }
        }
        let tcp = match transport.to_ascii_lowercase().as_str() {
            "udp" if tcptype.is_none() => None,
            "tcp" => Some(tcptype),
            _ => return None,
        };
        let related = match (raddr, rport) {
            (Some(address), Some(port)) => Some((address, port)),
            (None, None) => None,
            _ => return None,
        };
        Some(Self {
            kind,
            tcp,
            priority,
            address,
            port,
            related,
        })
    }

    fn write(&self, foundation: usize, out: &mut String) {
        let transport = if self.tcp.is_some() { "tcp" } else { "udp" };
        let _ = write!(
            out,
            "a=candidate:{foundation} 1 {transport} {} ",
            self.priority
        );
        self.address.write(out);
        let _ = write!(out, " {} typ {}", self.port, self.kind.name());
        if let Some((address, port)) = &self.related {
            out.push_str(" raddr ");
            address.write(out);
            let _ = write!(out, " rport {port}");
        }
        if let Some(Some(tcptype)) = self.tcp {
            let _ = write!(out, " tcptype {}", tcptype.name());
        }
        out.push_str("\r\n");
    }
}

/// Everything of a data-channel SDP that the peer's browser needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SessionParams {
    /// `a=ice-ufrag`: 4..=255 ICE characters.
    pub ufrag: String,
    /// `a=ice-pwd`: 22..=255 ICE characters.
    pub pwd: String,
    /// `a=fingerprint` algorithm.
    pub fingerprint_algorithm: HashAlgorithm,
    /// `a=fingerprint` digest.
    pub fingerprint: Vec<u8>,
    /// `a=setup`.
    pub setup: Setup,
    /// `a=mid`: a token of at most [`MAX_MID_LEN`] characters.
    pub mid: String,
    /// `a=sctp-port`.
    pub sctp_port: u16,
    /// `a=max-message-size`; 0 when absent.
    pub max_message_size: u32,
    /// The candidates, in SDP order.
    pub candidates: Vec<Candidate>,
}

/// ICE characters (RFC 8839 `ice-char`): the base64 alphabet.
pub(crate) fn is_ice_chars(text: &str, min: usize) -> bool {
    (min..=255).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/')
}

/// A token for `a=mid` (letters, digits, `-_.`).
pub(crate) fn is_mid(text: &str) -> bool {
    (1..=MAX_MID_LEN).contains(&text.len())
        && text
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.'))
}

fn parse_fingerprint(value: &str) -> Option<(HashAlgorithm, Vec<u8>)> {
    let (name, hex) = value.split_once(' ')?;
    let algorithm = *HashAlgorithm::ALL
        .iter()
        .find(|a| a.name().eq_ignore_ascii_case(name))?;
    let digest = hex
        .split(':')
        .map(|pair| {
            (pair.len() == 2)
                .then(|| u8::from_str_radix(pair, 16).ok())
                .flatten()
        })
        .collect::<Option<Vec<u8>>>()?;
    (digest.len() == algorithm.digest_len()).then_some((algorithm, digest))
}

impl SessionParams {
    /// Extracts the parameters from a browser's offer or answer (`localDescription.sdp`).
    pub fn from_sdp(sdp: &str) -> Result<Self, SdpError> {
        #[derive(Default)]
        struct Level<'a> {
            ufrag: Option<&'a str>,
            pwd: Option<&'a str>,
            fingerprint: Option<&'a str>,
            setup: Option<&'a str>,
        }
        let (mut session, mut media) = (Level::default(), Level::default());
        let (mut mid, mut sctp_port, mut max_message_size) = (None, None, None);
        let mut candidates = Vec::new();
        let mut sections = 0;
        for line in sdp.lines() {
            let line = line.trim_end_matches('\r');
            if let Some(m) = line.strip_prefix("m=") {
                sections += 1;
                if !m.starts_with("application ") {
                    return Err(SdpError::Media);
                }
                continue;
            }
            let Some((name, value)) = line
                .strip_prefix("a=")
                .map(|a| a.split_once(':').unwrap_or((a, "")))
            else {
                continue;
            };
            let level = if sections == 0 {
                &mut session
            } else {
                &mut media
            };
            match name {
                "ice-ufrag" => level.ufrag = Some(value),
                "ice-pwd" => level.pwd = Some(value),
                "fingerprint" => level.fingerprint = Some(value),
                "setup" => level.setup = Some(value),
                "mid" if sections > 0 => mid = Some(value),
                "sctp-port" if sections > 0 => sctp_port = Some(value),
                "max-message-size" if sections > 0 => max_message_size = Some(value),
                "candidate" if sections > 0 => {
                    let candidate = Candidate::parse(value)
                        .ok_or_else(|| SdpError::Candidate(value.chars().take(80).collect()))?;
                    if candidates.len() == MAX_CANDIDATES {
                        return Err(SdpError::TooManyCandidates);
                    }
                    candidates.push(candidate);
                }
                _ => {}
            }
        }
        if sections != 1 {
            return Err(SdpError::Media);
        }
        let ufrag = media
            .ufrag
            .or(session.ufrag)
            .ok_or(SdpError::Missing("ice-ufrag"))?;
        let pwd = media
            .pwd
            .or(session.pwd)
            .ok_or(SdpError::Missing("ice-pwd"))?;
        let fingerprint = media
            .fingerprint
            .or(session.fingerprint)
            .ok_or(SdpError::Missing("fingerprint"))?;
        let setup = media
            .setup
            .or(session.setup)
            .ok_or(SdpError::Missing("setup"))?;
        let mid = mid.ok_or(SdpError::Missing("mid"))?;
        if !is_ice_chars(ufrag, 4) {
            return Err(SdpError::Malformed("ice-ufrag"));
        }
        if !is_ice_chars(pwd, 22) {
            return Err(SdpError::Malformed("ice-pwd"));
        }
        let (fingerprint_algorithm, fingerprint) =
            parse_fingerprint(fingerprint).ok_or(SdpError::Malformed("fingerprint"))?;
        let setup = *Setup::ALL
            .iter()
            .find(|s| s.name() == setup)
            .ok_or(SdpError::Malformed("setup"))?;
        if !is_mid(mid) {
            return Err(SdpError::Malformed("mid"));
        }
        let sctp_port = match sctp_port {
            Some(port) => port.parse().map_err(|_| SdpError::Malformed("sctp-port"))?,
            None => 5000,
        };
        let max_message_size = match max_message_size {
            Some(size) => size
                .parse()
                .map_err(|_| SdpError::Malformed("max-message-size"))?,
            None => 0,
        };
        Ok(Self {
            ufrag: ufrag.to_owned(),
            pwd: pwd.to_owned(),
            fingerprint_algorithm,
            fingerprint,
            setup,
            mid: mid.to_owned(),
            sctp_port,
            max_message_size,
            candidates,
        })
    }

    /// The SDP to pass to `setRemoteDescription`. `session_id` fills the `o=` line.
    pub fn to_sdp(&self, session_id: u64) -> String {
        let mut out = String::with_capacity(600 + 120 * self.candidates.len());
        let _ = write!(
            out,
            "v=0\r\no=- {} 2 IN IP4 127.0.0.1\r\ns=-\r\nt=0 0\r\na=group:BUNDLE {mid}\r\na=msid-semantic: WMS\r\n\
             m=application 9 UDP/DTLS/SCTP webrtc-datachannel\r\nc=IN IP4 0.0.0.0\r\n",
            session_id & (u64::MAX >> 1),
            mid = self.mid
        );
        for (index, candidate) in self.candidates.iter().enumerate() {
            candidate.write(index + 1, &mut out);
        }
        out.push_str("a=end-of-candidates\r\n");
        let _ = write!(
            out,
            "a=ice-ufrag:{}\r\na=ice-pwd:{}\r\na=fingerprint:{} ",
            self.ufrag,
            self.pwd,
            self.fingerprint_algorithm.name()
        );
        for (i, byte) in self.fingerprint.iter().enumerate() {
            let _ = write!(out, "{}{byte:02X}", if i == 0 { "" } else { ":" });
        }
        let _ = write!(
            out,
            "\r\na=setup:{}\r\na=mid:{}\r\na=sctp-port:{}\r\n",
            self.setup.name(),
            self.mid,
            self.sctp_port
        );
        if self.max_message_size != 0 {
            let _ = write!(out, "a=max-message-size:{}\r\n", self.max_message_size);
        }
        out
    }
}
