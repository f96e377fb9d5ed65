//! The Socket.IO v5 packet codec: pure functions over text, no I/O.
//!
//! ```text
//! <type>[<attachments>-][<namespace>,][<ack id>][<JSON data>]
//! ```
//!
//! Decoding borrows from the input and validates exactly what the reference parser
//! validates, so every packet a Node.js server would refuse is refused here (and the
//! session closed by the caller). Encoding writes the Engine.IO message prefix `4` too, so
//! an encoded packet is ready to queue as one [`Frame`](crate::engineio::Frame).

use serde_json::value::RawValue;

use super::payload::Payload;

/// Event names a client may not emit: they are the library's own.
const RESERVED_EVENTS: [&str; 6] =
    ["connect", "connect_error", "disconnect", "disconnecting", "newListener", "removeListener"];

/// Whether Socket.IO reserves `name` (no event may carry it).
pub fn is_reserved_event(name: &str) -> bool {
    RESERVED_EVENTS.contains(&name)
}

/// A packet received from a client, borrowing from the message text.
#[derive(Debug, PartialEq)]
pub enum Packet<'a> {
    /// `0`: join a namespace, with an optional auth object.
    Connect {
        /// The namespace.
        nsp: &'a str,
        /// The auth payload, a JSON object text, if any.
        auth: Option<&'a str>,
    },
    /// `1`: leave a namespace.
    Disconnect {
        /// The namespace.
        nsp: &'a str,
    },
    /// `2` or `5`: an event, with `attachments` binary messages still to come.
    Event {
        /// The namespace.
        nsp: &'a str,
        /// The event name.
        name: String,
        /// The arguments after the name, as a JSON array text.
        args: String,
        /// The ack id, if the client wants an acknowledgement.
        id: Option<u64>,
        /// Binary attachments that follow (0 for a plain EVENT).
        attachments: usize,
    },
    /// `3` or `6`: the client acknowledges one of the server's events.
    Ack {
        /// The namespace.
        nsp: &'a str,
        /// The ack id.
        id: u64,
        /// The acknowledgement's arguments, a JSON array text.
        args: &'a str,
        /// Binary attachments that follow (0 for a plain ACK).
        attachments: usize,
    },
}

/// Why a packet is refused. Each one closes the client's connection.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecodeError {
    /// The type digit is missing or unknown, or the client may not send that type.
    #[error("invalid packet type")]
    InvalidType,
    /// A binary packet whose attachment count is missing or malformed.
    #[error("invalid attachment count")]
    InvalidAttachments,
    /// More attachments than `max_attachments`.
    #[error("too many attachments ({0})")]
    TooManyAttachments(usize),
    /// The ack id does not fit in 64 bits.
    #[error("invalid ack id")]
    InvalidAckId,
    /// The data is not JSON, or not the shape the packet type requires.
    #[error("invalid payload")]
    InvalidPayload,
}

/// Decodes one packet. `max_attachments` bounds a binary packet's attachment count.
pub fn decode(text: &str, max_attachments: usize) -> Result<Packet<'_>, DecodeError> {
    let bytes = text.as_bytes();
    let kind = *bytes.first().ok_or(DecodeError::InvalidType)?;
    let mut rest = &text[1..];

    let binary = matches!(kind, b'5' | b'6');
    let mut attachments = 0;
    if binary {
        let (count, after) = rest.split_once('-').ok_or(DecodeError::InvalidAttachments)?;
        if count.is_empty() || !count.bytes().all(|b| b.is_ascii_digit()) {
            return Err(DecodeError::InvalidAttachments);
        }
        attachments = count.parse().map_err(|_| DecodeError::InvalidAttachments)?;
        if attachments > max_attachments {
            return Err(DecodeError::TooManyAttachments(attachments));
        }
        rest = after;
    }

    let mut nsp = "/";
    if rest.starts_with('/') {
        let end = rest.find(',').unwrap_or(rest.len());
        nsp = &rest[..end];
        rest = rest.get(end + 1..).unwrap_or("");
    }

    let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
    let id = match digits {
        0 => None,
        _ => Some(rest[..digits].parse::<u64>().map_err(|_| DecodeError::InvalidAckId)?),
    };
    rest = &rest[digits..];
    let data = if rest.is_empty() { None } else { Some(rest) };

    match kind {
        b'0' => {
            let auth = match data {
                None => None,
                Some(data) => {
                    let raw: &RawValue = serde_json::from_str(data).map_err(|_| DecodeError::InvalidPayload)?;
                    if !raw.get().starts_with('{') {
                        return Err(DecodeError::InvalidPayload);
                    }
                    Some(raw.get())
                }
            };
            Ok(Packet::Connect { nsp, auth })
        }
        b'1' if data.is_none() => Ok(Packet::Disconnect { nsp }),
        b'2' | b'5' => {
            let (name, args) = split_event(data.ok_or(DecodeError::InvalidPayload)?)?;
            if is_reserved_event(&name) {
                return Err(DecodeError::InvalidPayload);
            }
            Ok(Packet::Event { nsp, name, args, id, attachments })
        }
        b'3' | b'6' => {
            let id = id.ok_or(DecodeError::InvalidAckId)?;
            let args = data.ok_or(DecodeError::InvalidPayload)?;
            let raw: &RawValue = serde_json::from_str(args).map_err(|_| DecodeError::InvalidPayload)?;
            if !raw.get().starts_with('[') {
                return Err(DecodeError::InvalidPayload);
            }
            Ok(Packet::Ack { nsp, id, args, attachments })
        }
        b'1' => Err(DecodeError::InvalidPayload),
        _ => Err(DecodeError::InvalidType),
    }
}

/// Splits an event's JSON array into its name and the array of the remaining arguments,
/// keeping every argument's text exactly as the client wrote it.
pub fn split_event(data: &str) -> Result<(String, String), DecodeError> {
    let items: Vec<&RawValue> = serde_json::from_str(data).map_err(|_| DecodeError::InvalidPayload)?;
    let first = items.first().ok_or(DecodeError::InvalidPayload)?;
    let name: String = serde_json::from_str(first.get()).map_err(|_| DecodeError::InvalidPayload)?;
    let args = match items.get(1) {
        None => String::from("[]"),
        Some(second) => {
            // `second` points into `data`; the arguments run from it to the closing bracket.
            let start = second.get().as_ptr() as usize - data.as_ptr() as usize;
            let mut args = String::with_capacity(data.len() - start + 1);
            args.push('[');
            args.push_str(data[start..].trim_end());
            args
        }
    };
    Ok((name, args))
}

/// Writes `4` (Engine.IO message), the type, the attachment count and the namespace.
fn header(out: &mut String, kind: u8, attachments: usize, nsp: &str) {
    out.push('4');
    out.push(char::from(b'0' + kind));
    if attachments > 0 {
        out.push_str(&attachments.to_string());
        out.push('-');
    }
    if nsp != "/" {
        out.push_str(nsp);
        out.push(',');
    }
}

/// Appends the elements of a JSON array text (without its brackets) after `out`'s content,
/// preceded by a comma when there are any.
fn push_array_tail(out: &mut String, array: &str) {
    // JSON's white space is ASCII.
    let inner = array.trim_ascii().strip_prefix('[').unwrap_or(array).trim_ascii_start();
    if inner.starts_with(']') {
        out.push(']');
    } else {
        out.push(',');
        out.push_str(inner);
    }
}

/// An EVENT (or BINARY_EVENT when `payload` has attachments).
pub fn encode_event(nsp: &str, name: &str, payload: &Payload, id: Option<u64>) -> String {
    let attachments = payload.attachments().len();
    let mut out = String::with_capacity(payload.json().len() + name.len() + nsp.len() + 16);
    header(&mut out, if attachments > 0 { 5 } else { 2 }, attachments, nsp);
    if let Some(id) = id {
        out.push_str(&id.to_string());
    }
    push_event_array(&mut out, name, payload.json());
    out
}

/// An event's wire form without the packet header: `["name",...arguments]`.
pub fn event_array(name: &str, args: &str) -> String {
    let mut out = String::with_capacity(args.len() + name.len() + 4);
    push_event_array(&mut out, name, args);
    out
}

/// Appends [`event_array`]`(name, args)` to `out`.
pub(crate) fn push_event_array(out: &mut String, name: &str, args: &str) {
    out.push('[');
    // What JSON escapes: quotes, backslashes and control characters. Names almost never
    // have any, and then they are written as they are.
    if name.bytes().any(|b| b == b'"' || b == b'\\' || b < 0x20) {
        out.push_str(&serde_json::to_string(name).expect("a string serializes"));
    } else {
        out.push('"');
        out.push_str(name);
        out.push('"');
    }
    push_array_tail(out, args);
}

/// An ACK (or BINARY_ACK when `payload` has attachments) answering `id`.
pub fn encode_ack(nsp: &str, id: u64, payload: &Payload) -> String {
    let attachments = payload.attachments().len();
    let mut out = String::with_capacity(payload.json().len() + nsp.len() + 16);
    header(&mut out, if attachments > 0 { 6 } else { 3 }, attachments, nsp);
    out.push_str(&id.to_string());
    out.push_str(payload.json().trim());
    out
}

/// The CONNECT answer carrying the new socket's id.
pub fn encode_connect(nsp: &str, sid: &str) -> String {
    let mut out = String::new();
    header(&mut out, 0, 0, nsp);
    out.push_str(r#"{"sid":""#);
    out.push_str(sid);
    out.push_str(r#""}"#);
    out
}

/// A CONNECT_ERROR: `{"message":...}` plus `"data"` when given.
pub fn encode_connect_error(nsp: &str, message: &str, data: Option<&serde_json::Value>) -> String {
    #[derive(serde::Serialize)]
    struct Body<'a> {
        message: &'a str,
        #[serde(skip_serializing_if = "Option::is_none")]
        data: Option<&'a serde_json::Value>,
    }
    let mut out = String::new();
    header(&mut out, 4, 0, nsp);
    out.push_str(&serde_json::to_string(&Body { message, data }).expect("plain struct serializes"));
    out
}

/// A DISCONNECT: the server removes the socket from the namespace.
pub fn encode_disconnect(nsp: &str) -> String {
    let mut out = String::new();
    header(&mut out, 1, 0, nsp);
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;

    fn event<'a>(nsp: &'a str, name: &str, args: &str, id: Option<u64>, attachments: usize) -> Packet<'a> {
        Packet::Event { nsp, name: name.into(), args: args.into(), id, attachments }
    }

    /// The form plugins see an event in, and the way back from it.
    #[test]
    fn event_arrays_round_trip_through_split_event() {
        for (name, args) in [("chat", r#"[{"text":"hi"},2]"#), ("ping", "[]"), ("say \"hi\"\n", r#"["a"]"#), ("ünï", "[1]")] {
            let text = event_array(name, args);
            assert_eq!(serde_json::from_str::<serde_json::Value>(&text).unwrap()[0], name, "{text}");
            assert_eq!(split_event(&text).unwrap(), (name.to_owned(), args.to_owned()), "{text}");
        }
        assert_eq!(event_array("chat", " [ 1 ] "), r#"["chat",1 ]"#, "argument text is kept as written");
        assert_eq!(split_event("[1]"), Err(DecodeError::InvalidPayload), "no name");
        assert_eq!(split_event(r#"["connect"]"#).unwrap().0, "connect", "reserved names are the decoder's business");
    }

    #[test]
    fn decodes_the_packets_clients_send() {
        let raw = |s: &'static str| Some(s);
        let table: Vec<(&str, Result<Packet<'_>, DecodeError>)> = vec![
            ("0", Ok(Packet::Connect { nsp: "/", auth: None })),
            (r#"0{"token":"123"}"#, Ok(Packet::Connect { nsp: "/", auth: raw(r#"{"token":"123"}"#) })),
            ("0/custom,", Ok(Packet::Connect { nsp: "/custom", auth: None })),
            ("0/custom", Ok(Packet::Connect { nsp: "/custom", auth: None })),
            (r#"0/a,{"x":1}"#, Ok(Packet::Connect { nsp: "/a", auth: raw(r#"{"x":1}"#) })),
            ("0[]", Err(DecodeError::InvalidPayload)),
            ("0\"str\"", Err(DecodeError::InvalidPayload)),
            ("1", Ok(Packet::Disconnect { nsp: "/" })),
            ("1/custom,", Ok(Packet::Disconnect { nsp: "/custom" })),
            ("1/custom", Ok(Packet::Disconnect { nsp: "/custom" })),
            ("1{}", Err(DecodeError::InvalidPayload)),
            (r#"2["message",1,"2",{"3":[true]}]"#, Ok(event("/", "message", r#"[1,"2",{"3":[true]}]"#, None, 0))),
            (r#"2["hello"]"#, Ok(event("/", "hello", "[]", None, 0))),
            (r#"2/chat,12["m", 1 ]"#, Ok(event("/chat", "m", "[1 ]", Some(12), 0))),
            (
                r#"52-["m",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#,
                Ok(event("/", "m", r#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#, None, 2)),
            ),
            (r#"3456[1,"2"]"#, Ok(Packet::Ack { nsp: "/", id: 456, args: r#"[1,"2"]"#, attachments: 0 })),
            (r#"61-/x,7[{"_placeholder":true,"num":0}]"#, Ok(Packet::Ack { nsp: "/x", id: 7, args: r#"[{"_placeholder":true,"num":0}]"#, attachments: 1 })),
            ("", Err(DecodeError::InvalidType)),
            ("abc", Err(DecodeError::InvalidType)),
            ("7[]", Err(DecodeError::InvalidType)),
            (r#"4{"message":"x"}"#, Err(DecodeError::InvalidType)),
            ("2{}", Err(DecodeError::InvalidPayload)),
            ("2[]", Err(DecodeError::InvalidPayload)),
            ("2[1]", Err(DecodeError::InvalidPayload)),
            (r#"2["connect"]"#, Err(DecodeError::InvalidPayload)),
            (r#"2["disconnecting",1]"#, Err(DecodeError::InvalidPayload)),
            (r#"2abc["message-with-ack",1]"#, Err(DecodeError::InvalidPayload)),
            (r#"299999999999999999999["x"]"#, Err(DecodeError::InvalidAckId)),
            (r#"2["x""#, Err(DecodeError::InvalidPayload)),
            ("2", Err(DecodeError::InvalidPayload)),
            (r#"3["x"]"#, Err(DecodeError::InvalidAckId)),
            (r#"31{}"#, Err(DecodeError::InvalidPayload)),
            (r#"5["x"]"#, Err(DecodeError::InvalidAttachments)),
            (r#"5a-["x"]"#, Err(DecodeError::InvalidAttachments)),
            (r#"5-["x"]"#, Err(DecodeError::InvalidAttachments)),
            (r#"511-["x"]"#, Err(DecodeError::TooManyAttachments(11))),
        ];
        for (input, expected) in table {
            assert_eq!(decode(input, 10), expected, "input {input:?}");
        }
    }

    #[test]
    fn encodes_byte_for_byte_like_the_reference_parser() {
        let args = Payload::from_json(r#"[1,"2",{"3":[true]}]"#).unwrap();
        assert_eq!(encode_event("/", "message-back", &args, None), r#"42["message-back",1,"2",{"3":[true]}]"#);
        assert_eq!(encode_event("/custom", "auth", &Payload::from_json("[{}]").unwrap(), None), r#"42/custom,["auth",{}]"#);
        assert_eq!(encode_event("/", "ping", &Payload::empty(), Some(3)), r#"423["ping"]"#);
        assert_eq!(encode_ack("/", 456, &Payload::from_json(r#"[1,"2"]"#).unwrap()), r#"43456[1,"2"]"#);
        let binary = Payload::new(
            r#"[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#.into(),
            vec![Bytes::from_static(&[1]), Bytes::from_static(&[2])],
        )
        .unwrap();
        assert_eq!(
            encode_event("/", "message-back", &binary, None),
            r#"452-["message-back",{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#
        );
        assert_eq!(encode_ack("/", 789, &binary), r#"462-789[{"_placeholder":true,"num":0},{"_placeholder":true,"num":1}]"#);
        assert_eq!(encode_connect("/", "abc"), r#"40{"sid":"abc"}"#);
        assert_eq!(encode_connect("/custom", "abc"), r#"40/custom,{"sid":"abc"}"#);
        assert_eq!(encode_connect_error("/random", "Invalid namespace", None), r#"44/random,{"message":"Invalid namespace"}"#);
        assert_eq!(
            encode_connect_error("/", "no", Some(&serde_json::json!({"retry": false}))),
            r#"44{"message":"no","data":{"retry":false}}"#
        );
        assert_eq!(encode_disconnect("/"), "41");
        assert_eq!(encode_disconnect("/chat"), "41/chat,");
    }

    #[test]
    fn event_round_trips_through_decode() {
        let text = r#"2/chat,7["say","hi",{"n":[1,2]}]"#;
        let Ok(Packet::Event { nsp, name, args, id, .. }) = decode(text, 10) else { panic!("decodes") };
        let again = encode_event(nsp, &name, &Payload::from_json(&args).unwrap(), id);
        assert_eq!(&again[1..], text);
    }
}
