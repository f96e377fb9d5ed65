//! One benchmark client connection: the Socket.IO (or raw) handshake, joining a room, and
//! the frames a publisher sends and a subscriber reads.

use crate::ws::{self, Conn};
use crate::{Args, Protocol};

/// The namespace as it prefixes a packet (`""` for `/`, `"/bench,"` otherwise).
fn nsp_prefix(args: &Args) -> String {
    if args.nsp == "/" { String::new() } else { format!("{},", args.nsp) }
}

/// Opens a connection and, for Socket.IO, joins the namespace.
pub(crate) async fn connect(args: &Args) -> Result<Conn, String> {
    let path = match args.protocol {
        Protocol::Sio => "/socket.io/?EIO=4&transport=websocket",
        Protocol::Raw => "/",
    };
    let mut conn = ws::connect(&args.addr, path).await.map_err(|e| e.to_string())?;
    if args.protocol == Protocol::Raw {
        return Ok(conn);
    }
    let open = next_text(&mut conn).await?;
    if !open.starts_with('0') {
        return Err(format!("expected an open packet, got {open}"));
    }
    let connect = format!("40{}{}", nsp_prefix(args), args.auth.as_deref().unwrap_or(""));
    conn.send(&connect).await.map_err(|e| e.to_string())?;
    loop {
        let text = next_text(&mut conn).await?;
        if text.starts_with("40") {
            return Ok(conn);
        }
        if text.starts_with("44") {
            return Err(format!("connect refused: {text}"));
        }
    }
}

/// The next text message, answering Engine.IO pings on the way.
pub(crate) async fn next_text(conn: &mut Conn) -> Result<String, String> {
    loop {
        match conn.reader.next().await {
            Ok(Some("2")) => conn.writer.send("3").await.map_err(|e| e.to_string())?,
            Ok(Some(text)) => return Ok(text.to_owned()),
            Ok(None) => return Err("connection closed".into()),
            Err(e) => return Err(e.to_string()),
        }
    }
}

/// Joins `room` and waits until the server confirms.
pub(crate) async fn join(conn: &mut Conn, args: &Args, room: &str) -> Result<(), String> {
    match args.protocol {
        Protocol::Sio => {
            let prefix = nsp_prefix(args);
            conn.send(&format!(r#"42{prefix}0["join","{room}"]"#)).await.map_err(|e| e.to_string())?;
            let ack = format!("43{prefix}0");
            loop {
                let text = next_text(conn).await?;
                if text.starts_with(&ack) {
                    return if text.contains(r#""ok":false"#) { Err(format!("join refused: {text}")) } else { Ok(()) };
                }
            }
        }
        Protocol::Raw => {
            conn.send(&format!("join:{room}")).await.map_err(|e| e.to_string())?;
            loop {
                if next_text(conn).await? == "joined" {
                    return Ok(());
                }
            }
        }
    }
}

/// The text that publishes message `seq`, sent at `t_us`, to `room`.
pub(crate) fn publish_frame(args: &Args, room: &str, seq: u64, t_us: u64, padding: &str) -> String {
    match args.protocol {
        // Numbers outside the text, so a content filter in the chain can never alter them.
        Protocol::Sio => format!(r#"42{}["publish",{{"to":"{room}","event":"m"}},{seq},{t_us},"{padding}"]"#, nsp_prefix(args)),
        Protocol::Raw => format!("{seq},{t_us},{padding}"),
    }
}

/// The sequence number and send time carried by a delivered message, if it is one.
/// Runs once per delivery, so it reads bytes rather than searching strings.
pub(crate) fn parse_delivery(protocol: Protocol, text: &str) -> Option<(u64, u64)> {
    let body = match protocol {
        // `42["m",SEQ,T,...]`, with a namespace between `42` and `[` when there is one.
        Protocol::Sio => text[text.find('[')? + 1..].strip_prefix(r#""m","#)?,
        Protocol::Raw => text,
    };
    let (seq, rest) = number(body.as_bytes())?;
    let (t_us, _) = number(rest.strip_prefix(b",")?)?;
    Some((seq, t_us))
}

/// A decimal number at the start of `bytes`, and what follows it.
fn number(bytes: &[u8]) -> Option<(u64, &[u8])> {
    let digits = bytes.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || digits > 19 {
        return None;
    }
    let value = bytes[..digits].iter().fold(0u64, |n, d| n * 10 + u64::from(d - b'0'));
    Some((value, &bytes[digits..]))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn deliveries_parse_in_both_protocols() {
        assert_eq!(parse_delivery(Protocol::Sio, r#"42["m",17,123456,"lorem"]"#), Some((17, 123456)));
        assert_eq!(parse_delivery(Protocol::Sio, r#"42/bench,["m",3,9,""]"#), Some((3, 9)));
        assert_eq!(parse_delivery(Protocol::Raw, "42,77,pad"), Some((42, 77)));
        assert_eq!(parse_delivery(Protocol::Sio, r#"430[{"ok":true}]"#), None);
        assert_eq!(parse_delivery(Protocol::Raw, "joined"), None);
        assert_eq!(parse_delivery(Protocol::Sio, r#"42["presence:diff",{"room":"m"}]"#), None);
        assert_eq!(parse_delivery(Protocol::Sio, r#"42["m",17]"#), None, "no send time");
    }
}
