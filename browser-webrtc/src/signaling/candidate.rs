//! ICE candidates as they travel in `ICE_CANDIDATE` messages: the JSON of
//! `RTCIceCandidate.toJSON()`.
//!
//! Sent form (what [`IceCandidate::to_json`] writes, keys in this order, absent values `null`):
//! `{"candidate":"candidate:…","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"abcd"}`.
//!
//! Received forms ([`RemoteCandidate::parse`]): a JSON object with a string `candidate` and
//! optional `sdpMid` (string or null), `sdpMLineIndex` (integer 0..=65535 or null),
//! `usernameFragment` (string or null); other keys are ignored. End of candidates is accepted in
//! every form peers have sent: empty `data`, the JSON text `null`, the JSON string `""`, and an
//! object whose `candidate` is `""` (js-libp2p before and after js-libp2p #3279). The parser
//! is a small strict JSON reader: bounded nesting ([`MAX_DEPTH`]), no panics, typed errors.

/// Deepest nesting accepted inside ignored values.
pub const MAX_DEPTH: usize = 16;

/// A local or remote ICE candidate (the fields of `RTCIceCandidateInit`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IceCandidate {
    /// The `candidate:` attribute line, never empty here.
    pub candidate: String,
    /// `sdpMid`.
    pub sdp_mid: Option<String>,
    /// `sdpMLineIndex`.
    pub sdp_m_line_index: Option<u16>,
    /// `usernameFragment`.
    pub username_fragment: Option<String>,
}

/// A received `ICE_CANDIDATE` payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RemoteCandidate {
    /// A candidate to add.
    Candidate(IceCandidate),
    /// The peer finished gathering.
    EndOfCandidates,
}

/// Why an `ICE_CANDIDATE` payload is not a candidate.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum CandidateError {
    /// Not JSON, or JSON nested deeper than [`MAX_DEPTH`], at this byte offset.
    #[error("invalid JSON at byte {0}")]
    Json(usize),
    /// JSON, but not an object (nor `null` or `""`).
    #[error("not a JSON object")]
    NotAnObject,
    /// The object has no `candidate` string.
    #[error("no candidate string")]
    MissingCandidate,
    /// A known key has a value of the wrong JSON type or range.
    #[error("field {0} has the wrong type")]
    WrongType(&'static str),
    /// A local candidate whose JSON does not fit in a signaling message.
    #[error("candidate too large to send")]
    TooLarge,
}

impl IceCandidate {
    /// The JSON text to send.
    pub fn to_json(&self) -> String {
        let mut out = String::with_capacity(self.candidate.len() + 80);
        out.push_str("{\"candidate\":");
        push_string(&mut out, &self.candidate);
        out.push_str(",\"sdpMid\":");
        match &self.sdp_mid {
            Some(mid) => push_string(&mut out, mid),
            None => out.push_str("null"),
        }
        out.push_str(",\"sdpMLineIndex\":");
        match self.sdp_m_line_index {
            Some(index) => out.push_str(&index.to_string()),
            None => out.push_str("null"),
        }
        out.push_str(",\"usernameFragment\":");
        match &self.username_fragment {
            Some(ufrag) => push_string(&mut out, ufrag),
            None => out.push_str("null"),
        }
        out.push('}');
        out
    }
}

fn push_string(out: &mut String, value: &str) {
    out.push('"');
    for c in value.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if u32::from(c) < 0x20 => out.push_str(&format!("\\u{:04x}", u32::from(c))),
            c => out.push(c),
        }
    }
    out.push('"');
}

impl RemoteCandidate {
    /// Reads the `data` of an `ICE_CANDIDATE` message.
    pub fn parse(data: &str) -> Result<Self, CandidateError> {
        let mut reader = Reader {
            bytes: data.as_bytes(),
            at: 0,
        };
        reader.skip_ws();
        if reader.at == reader.bytes.len() {
            return Ok(Self::EndOfCandidates);
        }
        let value = reader.top_level()?;
        reader.skip_ws();
        if reader.at != reader.bytes.len() {
            return Err(CandidateError::Json(reader.at));
        }
        Ok(value)
    }
}

/// A JSON scalar that the candidate object cares about.
enum Scalar {
    Null,
    Str(String),
    Int(u64),
    Other,
}

fn optional_string(value: Scalar, field: &'static str) -> Result<Option<String>, CandidateError> {
    match value {
        Scalar::Str(text) => Ok(Some(text)),
        Scalar::Null => Ok(None),
        _ => Err(CandidateError::WrongType(field)),
    }
}

struct Reader<'a> {
    bytes: &'a [u8],
    at: usize,
}

impl Reader<'_> {
    fn skip_ws(&mut self) {
        while matches!(self.bytes.get(self.at), Some(b' ' | b'\t' | b'\n' | b'\r')) {
            self.at += 1;
        }
    }

    fn error(&self) -> CandidateError {
        CandidateError::Json(self.at)
    }

    fn eat(&mut self, byte: u8) -> Result<(), CandidateError> {
        if self.bytes.get(self.at) == Some(&byte) {
            self.at += 1;
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn literal(&mut self, word: &[u8]) -> Result<(), CandidateError> {
        if self.bytes[self.at..].starts_with(word) {
            self.at += word.len();
            Ok(())
        } else {
            Err(self.error())
        }
    }

    fn top_level(&mut self) -> Result<RemoteCandidate, CandidateError> {
        match self.bytes.get(self.at) {
            Some(b'{') => self.candidate_object(),
            _ => match self.value(0)? {
                Scalar::Null => Ok(RemoteCandidate::EndOfCandidates),
                Scalar::Str(text) if text.is_empty() => Ok(RemoteCandidate::EndOfCandidates),
                _ => Err(CandidateError::NotAnObject),
            },
        }
    }

    fn candidate_object(&mut self) -> Result<RemoteCandidate, CandidateError> {
        let mut candidate = None;
        let mut sdp_mid = None;
        let mut sdp_m_line_index = None;
        let mut username_fragment = None;
        self.sequence(b'{', b'}', |reader| {
            let (key, value) = reader.member(1)?;
            match key.as_str() {
                "candidate" => match value {
                    Scalar::Str(text) => candidate = Some(text),
                    _ => return Err(CandidateError::WrongType("candidate")),
                },
                "sdpMid" => sdp_mid = optional_string(value, "sdpMid")?,
                "sdpMLineIndex" => match value {
                    Scalar::Int(n) => {
                        sdp_m_line_index = Some(
                            u16::try_from(n)
                                .map_err(|_| CandidateError::WrongType("sdpMLineIndex"))?,
                        )
                    }
                    Scalar::Null => sdp_m_line_index = None,
                    _ => return Err(CandidateError::WrongType("sdpMLineIndex")),
                },
                "usernameFragment" => {
                    username_fragment = optional_string(value, "usernameFragment")?
                }
                _ => {}
            }
            Ok(())
        })?;
        match candidate {
            None => Err(CandidateError::MissingCandidate),
            Some(text) if text.is_empty() => Ok(RemoteCandidate::EndOfCandidates),
            Some(candidate) => Ok(RemoteCandidate::Candidate(IceCandidate {
                candidate,
                sdp_mid,
                sdp_m_line_index,
                username_fragment,
            })),
        }
    }

    /// Reads `open close` or `open item (, item)* close`, calling `item` for each item.
    fn sequence(
        &mut self,
        open: u8,
        close: u8,
        mut item: impl FnMut(&mut Self) -> Result<(), CandidateError>,
    ) -> Result<(), CandidateError> {
        self.eat(open)?;
        self.skip_ws();
        if self.bytes.get(self.at) == Some(&close) {
            self.at += 1;
            return Ok(());
        }
        loop {
            self.skip_ws();
            item(self)?;
            self.skip_ws();
            match self.bytes.get(self.at) {
                Some(b',') => self.at += 1,
                Some(&byte) if byte == close => {
                    self.at += 1;
                    return Ok(());
                }
                _ => return Err(self.error()),
            }
        }
    }

    /// Reads `"key": value` in an object.
    fn member(&mut self, depth: usize) -> Result<(String, Scalar), CandidateError> {
        let key = self.string()?;
        self.skip_ws();
        self.eat(b':')?;
        self.skip_ws();
        Ok((key, self.value(depth)?))
    }

    /// Reads any JSON value; only scalars are kept.
    fn value(&mut self, depth: usize) -> Result<Scalar, CandidateError> {
        if depth > MAX_DEPTH {
            return Err(self.error());
        }
        match self.bytes.get(self.at) {
            Some(b'"') => self.string().map(Scalar::Str),
            Some(b'n') => self.literal(b"null").map(|()| Scalar::Null),
            Some(b't') => self.literal(b"true").map(|()| Scalar::Other),
            Some(b'f') => self.literal(b"false").map(|()| Scalar::Other),
            Some(b'-' | b'0'..=b'9') => self.number(),
            Some(b'{') => self
                .sequence(b'{', b'}', |reader| reader.member(depth + 1).map(drop))
                .map(|()| Scalar::Other),
            Some(b'[') => self
                .sequence(b'[', b']', |reader| reader.value(depth + 1).map(drop))
                .map(|()| Scalar::Other),
            _ => Err(self.error()),
        }
    }

    /// A JSON number; `Int` if it is a non-negative integer without fraction or exponent.
    fn number(&mut self) -> Result<Scalar, CandidateError> {
        let start = self.at;
        let negative = self.bytes.get(self.at) == Some(&b'-');
        if negative {
            self.at += 1;
        }
        let digits_start = self.at;
        while matches!(self.bytes.get(self.at), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        let digits = &self.bytes[digits_start..self.at];
        if digits.is_empty() || (digits.len() > 1 && digits[0] == b'0') {
            return Err(CandidateError::Json(start));
        }
        let mut integral = !negative;
        if self.bytes.get(self.at) == Some(&b'.') {
            integral = false;
            self.at += 1;
            self.digits()?;
        }
        if matches!(self.bytes.get(self.at), Some(b'e' | b'E')) {
            integral = false;
            self.at += 1;
            if matches!(self.bytes.get(self.at), Some(b'+' | b'-')) {
                self.at += 1;
            }
            self.digits()?;
        }
        if !integral {
            return Ok(Scalar::Other);
        }
        let mut value = 0u64;
        for &digit in digits {
            value = match value
                .checked_mul(10)
                .and_then(|v| v.checked_add(u64::from(digit - b'0')))
            {
                Some(v) => v,
                None => return Ok(Scalar::Other),
            };
        }
        Ok(Scalar::Int(value))
    }

    fn digits(&mut self) -> Result<(), CandidateError> {
        let start = self.at;
        while matches!(self.bytes.get(self.at), Some(b'0'..=b'9')) {
            self.at += 1;
        }
        if self.at == start {
            Err(self.error())
        } else {
            Ok(())
        }
    }

    fn string(&mut self) -> Result<String, CandidateError> {
        self.eat(b'"')?;
        let mut out = String::new();
        loop {
            let start = self.at;
            while matches!(self.bytes.get(self.at), Some(&b) if b != b'"' && b != b'\\' && b >= 0x20)
            {
                self.at += 1;
            }
            // The input is a &str and the run stops only at ASCII bytes, so this slice is UTF-8.
            out.push_str(
                core::str::from_utf8(&self.bytes[start..self.at])
                    .map_err(|_| CandidateError::Json(start))?,
            );
            match self.bytes.get(self.at) {
                Some(b'"') => {
                    self.at += 1;
                    return Ok(out);
                }
                Some(b'\\') => {
                    self.at += 1;
                    let escape = *self.bytes.get(self.at).ok_or_else(|| self.error())?;
                    self.at += 1;
                    match escape {
                        b'"' => out.push('"'),
                        b'\\' => out.push('\\'),
                        b'/' => out.push('/'),
                        b'b' => out.push('\u{8}'),
                        b'f' => out.push('\u{c}'),
                        b'n' => out.push('\n'),
                        b'r' => out.push('\r'),
                        b't' => out.push('\t'),
                        b'u' => {
                            let high = self.hex4()?;
                            let code = if (0xd800..0xdc00).contains(&high) {
                                self.literal(b"\\u")?;
                                let low = self.hex4()?;
                                if !(0xdc00..0xe000).contains(&low) {
                                    return Err(self.error());
                                }
                                0x10000 + ((high - 0xd800) << 10) + (low - 0xdc00)
                            } else {
                                high
                            };
                            out.push(char::from_u32(code).ok_or_else(|| self.error())?);
                        }
                        _ => return Err(CandidateError::Json(self.at - 1)),
                    }
                }
                _ => return Err(self.error()),
            }
        }
    }

    fn hex4(&mut self) -> Result<u32, CandidateError> {
        let mut value = 0;
        for _ in 0..4 {
            let digit = self
                .bytes
                .get(self.at)
                .and_then(|&b| char::from(b).to_digit(16))
                .ok_or_else(|| self.error())?;
            value = value * 16 + digit;
            self.at += 1;
        }
        Ok(value)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn chrome_candidate() -> IceCandidate {
        IceCandidate {
            candidate: "candidate:1467250027 1 udp 2122260223 10.213.0.1 46243 typ host generation 0 ufrag Ffsk network-id 1"
                .into(),
            sdp_mid: Some("0".into()),
            sdp_m_line_index: Some(0),
            username_fragment: Some("Ffsk".into()),
        }
    }

    #[test]
    fn chrome_json_round_trips() {
        let candidate = chrome_candidate();
        let json = candidate.to_json();
        assert_eq!(
            json,
            r#"{"candidate":"candidate:1467250027 1 udp 2122260223 10.213.0.1 46243 typ host generation 0 ufrag Ffsk network-id 1","sdpMid":"0","sdpMLineIndex":0,"usernameFragment":"Ffsk"}"#
        );
        assert_eq!(
            RemoteCandidate::parse(&json),
            Ok(RemoteCandidate::Candidate(candidate))
        );
    }

    #[test]
    fn every_end_of_candidates_form_is_accepted() {
        for data in [
            "",
            "  ",
            "null",
            "\"\"",
            r#"{"candidate":""}"#,
            r#"{"candidate":"","sdpMid":"0","sdpMLineIndex":0}"#,
        ] {
            assert_eq!(
                RemoteCandidate::parse(data),
                Ok(RemoteCandidate::EndOfCandidates),
                "{data:?}"
            );
        }
    }

    #[test]
    fn escapes_unknown_keys_and_nulls_are_read() {
        let data = r#" { "extra" : [1, {"a": [true, false, -1.5e3]}], "candidate" : "c\u00e9\"\\\/\ud83d\ude00", "sdpMid": null, "sdpMLineIndex": null } "#;
        assert_eq!(
            RemoteCandidate::parse(data),
            Ok(RemoteCandidate::Candidate(IceCandidate {
                candidate: "cé\"\\/😀".into(),
                sdp_mid: None,
                sdp_m_line_index: None,
                username_fragment: None,
            }))
        );
        let odd = IceCandidate {
            candidate: "a\"b\\c\n\u{1}".into(),
            sdp_mid: None,
            sdp_m_line_index: Some(65535),
            username_fragment: None,
        };
        assert_eq!(
            RemoteCandidate::parse(&odd.to_json()),
            Ok(RemoteCandidate::Candidate(odd))
        );
    }

    #[test]
    fn malformed_payloads_get_typed_errors() {
        assert_eq!(
            RemoteCandidate::parse("{}"),
            Err(CandidateError::MissingCandidate)
        );
        assert_eq!(
            RemoteCandidate::parse(r#"{"sdpMid":"0"}"#),
            Err(CandidateError::MissingCandidate)
        );
        assert_eq!(
            RemoteCandidate::parse("[]"),
            Err(CandidateError::NotAnObject)
        );
        assert_eq!(
            RemoteCandidate::parse("\"x\""),
            Err(CandidateError::NotAnObject)
        );
        assert_eq!(
            RemoteCandidate::parse(r#"{"candidate":1}"#),
            Err(CandidateError::WrongType("candidate"))
        );
        assert_eq!(
            RemoteCandidate::parse(r#"{"candidate":"c","sdpMLineIndex":65536}"#),
            Err(CandidateError::WrongType("sdpMLineIndex"))
        );
        assert_eq!(
            RemoteCandidate::parse(r#"{"candidate":"c","sdpMLineIndex":-1}"#),
            Err(CandidateError::WrongType("sdpMLineIndex"))
        );
        assert_eq!(
            RemoteCandidate::parse(r#"{"candidate":"c""#),
            Err(CandidateError::Json(16))
        );
        assert_eq!(
            RemoteCandidate::parse(r#"{"candidate":"c"} x"#),
            Err(CandidateError::Json(18))
        );
        assert_eq!(
            RemoteCandidate::parse(r#"{"candidate":"\ud800"}"#),
            Err(CandidateError::Json(20))
        );
        assert_eq!(
            RemoteCandidate::parse(r#"{"candidate":"c","x":01}"#),
            Err(CandidateError::Json(21))
        );
        let deep = format!(
            "{{\"x\":{}{}, \"candidate\":\"c\"}}",
            "[".repeat(MAX_DEPTH + 1),
            "]".repeat(MAX_DEPTH + 1)
        );
        assert!(matches!(
            RemoteCandidate::parse(&deep),
            Err(CandidateError::Json(_))
        ));
        let ok_deep = format!(
            "{{\"x\":{}{}, \"candidate\":\"c\"}}",
            "[".repeat(MAX_DEPTH),
            "]".repeat(MAX_DEPTH)
        );
        assert!(matches!(
            RemoteCandidate::parse(&ok_deep),
            Ok(RemoteCandidate::Candidate(_))
        ));
    }

    #[test]
    fn every_truncation_of_a_candidate_is_an_error_or_a_value() {
        let json = chrome_candidate().to_json();
        for cut in 1..json.len() {
            if json.is_char_boundary(cut) {
                assert!(RemoteCandidate::parse(&json[..cut]).is_err(), "cut {cut}");
            }
        }
    }

    #[cfg(not(target_family = "wasm"))]
    mod properties {
        use super::*;
        use proptest::prelude::*;

        proptest! {
            #[test]
            fn any_candidate_round_trips(candidate in ".+", mid in proptest::option::of(".*"), index in proptest::option::of(any::<u16>()), ufrag in proptest::option::of(".*")) {
                let value = IceCandidate { candidate, sdp_mid: mid, sdp_m_line_index: index, username_fragment: ufrag };
                prop_assert_eq!(RemoteCandidate::parse(&value.to_json()), Ok(RemoteCandidate::Candidate(value)));
            }

            #[test]
            fn any_text_is_handled(text in ".{0,300}") {
                let _ = RemoteCandidate::parse(&text);
            }
        }
    }
}
