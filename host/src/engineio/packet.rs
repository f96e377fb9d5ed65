//! The Engine.IO v4 packet and payload codec: pure functions over text and bytes, no I/O.
//!
//! A packet is one character of type (`0` open … `6` noop) followed by its data; a binary
//! message travels as a raw binary WebSocket frame, or inside a long-polling payload as
//! `b` + base64. A long-polling payload joins packets with the record separator `\x1e`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use tokio_tungstenite::tungstenite::Utf8Bytes;

/// Separates packets inside a long-polling payload.
pub const SEPARATOR: char = '\x1e';

/// One Engine.IO packet as it goes out: the full text of a text packet (type character
/// included), or the bytes of a binary message.
///
/// Both variants are reference-counted buffers, so a broadcast clones pointers, never
/// bytes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    /// A text packet, e.g. `4hello` or `2`.
    Text(Utf8Bytes),
    /// A binary message (an Engine.IO `4` packet with binary data).
    Binary(Bytes),
}

impl Frame {
    /// The ping packet the server sends every `pingInterval`.
    pub const PING: Frame = Frame::Text(Utf8Bytes::from_static("2"));
    /// The noop packet that ends a pending long-poll during an upgrade.
    pub const NOOP: Frame = Frame::Text(Utf8Bytes::from_static("6"));
    /// The close packet.
    pub const CLOSE: Frame = Frame::Text(Utf8Bytes::from_static("1"));

    /// A message packet (`4` + `text`).
    pub fn message(text: &str) -> Frame {
        let mut s = String::with_capacity(text.len() + 1);
        s.push('4');
        s.push_str(text);
        Frame::Text(s.into())
    }

    /// Bytes this frame occupies on the wire, ignoring transport framing.
    pub fn len(&self) -> usize {
        match self {
            Frame::Text(t) => t.len(),
            Frame::Binary(b) => b.len(),
        }
    }

    /// Whether the frame carries no bytes at all (never true for a well-formed packet).
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// A packet received from a client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming<'a> {
    /// `1`: the client closes the session.
    Close,
    /// `2` with optional data (`2probe` during an upgrade).
    Ping(&'a str),
    /// `3` with optional data (`3probe` is only ever sent by the server).
    Pong(&'a str),
    /// `4`: a text message for the layer above.
    Message(&'a str),
    /// A binary message for the layer above.
    Binary(Bytes),
    /// `5`: the client completes an upgrade.
    Upgrade,
    /// `6`: nothing.
    Noop,
}

/// A packet that does not follow the Engine.IO v4 format.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// Empty text where a packet was expected.
    #[error("empty packet")]
    Empty,
    /// The type character is not one a client may send.
    #[error("unknown packet type {0:?}")]
    UnknownType(char),
    /// A `b` packet whose base64 does not decode.
    #[error("invalid base64 in binary packet")]
    Base64,
}

/// Decodes one text packet.
pub fn decode_text(text: &str) -> Result<Incoming<'_>, DecodeError> {
    let mut chars = text.chars();
    let kind = chars.next().ok_or(DecodeError::Empty)?;
    let data = chars.as_str();
    Ok(match kind {
        '1' => Incoming::Close,
        '2' => Incoming::Ping(data),
        '3' => Incoming::Pong(data),
        '4' => Incoming::Message(data),
        '5' => Incoming::Upgrade,
        '6' => Incoming::Noop,
        other => return Err(DecodeError::UnknownType(other)),
    })
}

/// Decodes a long-polling payload into its packets, in order. Any invalid packet makes the
/// whole payload invalid: the spec closes the session rather than deliver a prefix.
pub fn decode_payload(payload: &str) -> Result<Vec<Incoming<'_>>, DecodeError> {
    payload
        .split(SEPARATOR)
        .map(|packet| match packet.strip_prefix('b') {
            Some(b64) => STANDARD
                .decode(b64)
                .map(|raw| Incoming::Binary(Bytes::from(raw)))
                .map_err(|_| DecodeError::Base64),
            None => decode_text(packet),
        })
        .collect()
}

/// Appends `frames` to `out` as one long-polling payload.
pub fn encode_payload<'a>(frames: impl IntoIterator<Item = &'a Frame>, out: &mut String) {
    for (i, frame) in frames.into_iter().enumerate() {
        if i > 0 {
            out.push(SEPARATOR);
        }
        match frame {
            Frame::Text(text) => out.push_str(text),
            Frame::Binary(bytes) => {
                out.push('b');
                STANDARD.encode_string(bytes, out);
            }
        }
    }
}

/// The text of the open packet (`0{...}`), keys in the order the spec shows them.
pub fn open_packet(
    sid: &str,
    upgrades: &[&str],
    ping_interval_ms: u64,
    ping_timeout_ms: u64,
    max_payload: usize,
) -> String {
    #[derive(serde::Serialize)]
    #[serde(rename_all = "camelCase")]
    struct Open<'a> {
        sid: &'a str,
        upgrades: &'a [&'a str],
        ping_interval: u64,
        ping_timeout: u64,
        max_payload: usize,
    }
    let open = Open { sid, upgrades, ping_interval: ping_interval_ms, ping_timeout: ping_timeout_ms, max_payload };
    let mut out = String::from("0");
    out.push_str(&serde_json::to_string(&open).expect("plain struct serializes"));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn decodes_each_packet_type() {
        let table: &[(&str, Result<Incoming<'_>, DecodeError>)] = &[
            ("1", Ok(Incoming::Close)),
            ("2", Ok(Incoming::Ping(""))),
            ("2probe", Ok(Incoming::Ping("probe"))),
            ("3", Ok(Incoming::Pong(""))),
            ("4hello", Ok(Incoming::Message("hello"))),
            ("4", Ok(Incoming::Message(""))),
            ("5", Ok(Incoming::Upgrade)),
            ("6", Ok(Incoming::Noop)),
            ("", Err(DecodeError::Empty)),
            ("abc", Err(DecodeError::UnknownType('a'))),
            ("7", Err(DecodeError::UnknownType('7'))),
            ("é", Err(DecodeError::UnknownType('é'))),
        ];
        for (input, expected) in table {
            assert_eq!(&decode_text(input), expected, "input {input:?}");
        }
    }

    #[test]
    fn payload_round_trips_text_and_binary() {
        let decoded = decode_payload("4hello\x1ebAQIDBA==\x1e3").unwrap();
        assert_eq!(
            decoded,
            vec![
                Incoming::Message("hello"),
                Incoming::Binary(Bytes::from_static(&[1, 2, 3, 4])),
                Incoming::Pong(""),
            ]
        );
        let frames = [Frame::message("hello"), Frame::Binary(Bytes::from_static(&[1, 2, 3, 4]))];
        let mut out = String::new();
        encode_payload(&frames, &mut out);
        assert_eq!(out, "4hello\x1ebAQIDBA==");
    }

    #[test]
    fn payload_with_one_bad_packet_is_rejected() {
        assert_eq!(decode_payload("4ok\x1eabc"), Err(DecodeError::UnknownType('a')));
        assert_eq!(decode_payload("b!!!"), Err(DecodeError::Base64));
        assert_eq!(decode_payload(""), Err(DecodeError::Empty));
    }

    #[test]
    fn open_packet_keeps_spec_key_order() {
        assert_eq!(
            open_packet("abc", &["websocket"], 300, 200, 1_000_000),
            r#"0{"sid":"abc","upgrades":["websocket"],"pingInterval":300,"pingTimeout":200,"maxPayload":1000000}"#
        );
    }
}
