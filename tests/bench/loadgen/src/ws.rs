//! A minimal WebSocket client (RFC 6455): the opening handshake, masked text frames out,
//! and frames in parsed where they lie in the read buffer. It does what the benchmark needs
//! and no more, so the generator spends its core on the measurement: no allocation or
//! copy per received message, no buffer zeroed before a read, no locks between the halves.
//!
//! Received pings are not answered and fragmented messages are reassembled; binary frames
//! are skipped. A close frame or the end of the stream ends the connection.

use std::io;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;
use tokio::net::tcp::{OwnedReadHalf, OwnedWriteHalf};

/// Read buffer per connection: dozens of deliveries per read call, and small enough that
/// thousands of connections' buffers stay warm in the cache.
const READ_BUFFER: usize = 4 * 1024;

/// A connected WebSocket.
pub(crate) struct Conn {
    pub(crate) reader: Reader,
    pub(crate) writer: Writer,
}

/// The receiving half.
pub(crate) struct Reader {
    half: OwnedReadHalf,
    buf: Vec<u8>,
    /// Where the unparsed bytes of `buf` start.
    start: usize,
    /// A fragmented text message being put together.
    partial: Vec<u8>,
    /// Where the message last returned by [`Reader::next`] lies.
    last: Last,
}

/// Where a returned message lies.
#[derive(Clone, Copy)]
enum Last {
    /// Nothing returned yet (or the connection ended).
    Nothing,
    /// In the read buffer, between these offsets.
    Buffer(usize, usize),
    /// In `partial`: a fragmented message, reassembled.
    Reassembled,
}

/// The sending half.
pub(crate) struct Writer {
    half: OwnedWriteHalf,
    out: Vec<u8>,
    /// xorshift state for frame masks.
    mask: u32,
}

/// Connects to `ws://{addr}{path}`.
pub(crate) async fn connect(addr: &str, path: &str) -> io::Result<Conn> {
    let stream = TcpStream::connect(addr).await?;
    stream.set_nodelay(true)?;
    let (read, mut write) = stream.into_split();
    let mut seed = Writer::seed(&write);
    let key = base64(&std::array::from_fn::<u8, 16, _>(|_| xorshift(&mut seed) as u8));
    let request = format!(
        "GET {path} HTTP/1.1\r\nHost: {addr}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n\
         Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n"
    );
    write.write_all(request.as_bytes()).await?;
    let mut reader = Reader { half: read, buf: Vec::with_capacity(READ_BUFFER), start: 0, partial: Vec::new(), last: Last::Nothing };
    let head_end = loop {
        if let Some(at) = reader.buf.windows(4).position(|w| w == b"\r\n\r\n") {
            break at + 4;
        }
        if reader.buf.len() > 16 * 1024 || reader.half.read_buf(&mut reader.buf).await? == 0 {
            return Err(io::Error::new(io::ErrorKind::InvalidData, "no WebSocket handshake answer"));
        }
    };
    let status = String::from_utf8_lossy(&reader.buf[..head_end.min(64)]).into_owned();
    if !status.starts_with("HTTP/1.1 101") {
        return Err(io::Error::new(io::ErrorKind::InvalidData, format!("handshake refused: {}", status.lines().next().unwrap_or(""))));
    }
    reader.start = head_end;
    Ok(Conn { reader, writer: Writer { half: write, out: Vec::with_capacity(1024), mask: seed } })
}

impl Conn {
    /// Sends `text` now.
    pub(crate) async fn send(&mut self, text: &str) -> io::Result<()> {
        self.writer.send(text).await
    }
}

/// What [`parse`] found at the start of a buffer.
enum Parsed {
    /// More bytes are needed.
    Incomplete,
    /// A frame: its opcode, whether it is final, and where its payload lies (relative to
    /// the start of the slice); `end` is where the frame ends.
    Frame { opcode: u8, fin: bool, payload: (usize, usize), end: usize },
}

/// Parses one frame header at the start of `bytes`.
fn parse(bytes: &[u8]) -> io::Result<Parsed> {
    let [b0, b1, ..] = *bytes else { return Ok(Parsed::Incomplete) };
    let (len, at) = match b1 & 0x7f {
        126 if bytes.len() >= 4 => (u64::from(u16::from_be_bytes([bytes[2], bytes[3]])), 4),
        127 if bytes.len() >= 10 => (u64::from_be_bytes(bytes[2..10].try_into().expect("8 bytes")), 10),
        126 | 127 => return Ok(Parsed::Incomplete),
        len => (u64::from(len), 2),
    };
    let masked = b1 & 0x80 != 0;
    if masked {
        // Servers never mask (RFC 6455 §5.1); reading one that does would need the key.
        return Err(io::Error::new(io::ErrorKind::InvalidData, "masked frame from the server"));
    }
    let len = usize::try_from(len).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "frame too large"))?;
    let end = at + len;
    if bytes.len() < end {
        return Ok(Parsed::Incomplete);
    }
    Ok(Parsed::Frame { opcode: b0 & 0x0f, fin: b0 & 0x80 != 0, payload: (at, end), end })
}

impl Reader {
    /// The next text message, borrowed from the read buffer until the next call; `None`
    /// once the connection has closed.
    pub(crate) async fn next(&mut self) -> io::Result<Option<&str>> {
        // The previous message is done with.
        if let Last::Reassembled = self.last {
            self.partial.clear();
        }
        self.last = Last::Nothing;
        loop {
            match parse(&self.buf[self.start..])? {
                Parsed::Frame { opcode, fin, payload: (from, to), end } => {
                    let (from, to) = (self.start + from, self.start + to);
                    self.start += end;
                    match opcode {
                        0x1 if fin && self.partial.is_empty() => {
                            self.last = Last::Buffer(from, to);
                            break;
                        }
                        0x1 | 0x0 => {
                            self.partial.extend_from_slice(&self.buf[from..to]);
                            if fin {
                                self.last = Last::Reassembled;
                                break;
                            }
                        }
                        0x8 => return Ok(None),
                        // Binary, ping, pong: nothing the benchmark reads.
                        _ => {}
                    }
                }
                Parsed::Incomplete => {
                    if self.start == self.buf.len() {
                        self.buf.clear();
                        self.start = 0;
                    } else if self.buf.capacity() - self.buf.len() < READ_BUFFER / 4 {
                        self.buf.drain(..self.start);
                        self.start = 0;
                        self.buf.reserve(READ_BUFFER / 4);
                    }
                    if self.half.read_buf(&mut self.buf).await? == 0 {
                        return Ok(None);
                    }
                }
            }
        }
        let bytes = match self.last {
            Last::Buffer(from, to) => &self.buf[from..to],
            Last::Reassembled | Last::Nothing => &self.partial[..],
        };
        std::str::from_utf8(bytes).map(Some).map_err(|_| io::Error::new(io::ErrorKind::InvalidData, "text frame is not UTF-8"))
    }
}

impl Writer {
    fn seed(half: &OwnedWriteHalf) -> u32 {
        let port = half.local_addr().map(|a| a.port()).unwrap_or(1);
        let nanos = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).map(|d| d.subsec_nanos()).unwrap_or(7);
        (u32::from(port) << 16 ^ nanos) | 1
    }

    /// Adds a masked text frame carrying `text` to the outgoing buffer.
    pub(crate) fn feed(&mut self, text: &str) {
        let len = text.len();
        self.out.push(0x81);
        match len {
            0..=125 => self.out.push(0x80 | len as u8),
            126..=0xffff => {
                self.out.push(0x80 | 126);
                self.out.extend_from_slice(&(len as u16).to_be_bytes());
            }
            _ => {
                self.out.push(0x80 | 127);
                self.out.extend_from_slice(&(len as u64).to_be_bytes());
            }
        }
        let key = xorshift(&mut self.mask).to_be_bytes();
        self.out.extend_from_slice(&key);
        self.out.extend(text.bytes().enumerate().map(|(i, b)| b ^ key[i % 4]));
    }

    /// Writes whatever has been fed.
    pub(crate) async fn flush(&mut self) -> io::Result<()> {
        if !self.out.is_empty() {
            self.half.write_all(&self.out).await?;
            self.out.clear();
        }
        Ok(())
    }

    /// Sends `text` now.
    pub(crate) async fn send(&mut self, text: &str) -> io::Result<()> {
        self.feed(text);
        self.flush().await
    }

    /// Sends a close frame (status 1000) and ends the write side.
    pub(crate) async fn close(&mut self) -> io::Result<()> {
        let key = xorshift(&mut self.mask).to_be_bytes();
        let code = 1000u16.to_be_bytes();
        self.out.extend_from_slice(&[0x88, 0x82, key[0], key[1], key[2], key[3], code[0] ^ key[0], code[1] ^ key[1]]);
        self.flush().await?;
        self.half.shutdown().await
    }
}

fn xorshift(state: &mut u32) -> u32 {
    let mut x = *state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    *state = x;
    x
}

fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk.iter().enumerate().fold(0u32, |n, (i, b)| n | u32::from(*b) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 0x3f) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn base64_matches_the_rfc_example() {
        // RFC 6455 §1.3: the sample nonce.
        assert_eq!(base64(b"the sample nonce"), "dGhlIHNhbXBsZSBub25jZQ==");
        assert_eq!(base64(b"ab"), "YWI=");
    }

    #[test]
    fn frames_parse_at_every_length_encoding() {
        let mut bytes = vec![0x81, 3, b'a', b'b', b'c'];
        let Parsed::Frame { opcode, fin, payload, end } = parse(&bytes).unwrap() else { panic!("complete") };
        assert_eq!((opcode, fin, payload, end), (1, true, (2, 5), 5));
        assert!(matches!(parse(&bytes[..4]).unwrap(), Parsed::Incomplete));
        bytes = vec![0x01, 126, 0x01, 0x00];
        bytes.extend(std::iter::repeat_n(b'x', 256));
        let Parsed::Frame { fin, payload, .. } = parse(&bytes).unwrap() else { panic!("complete") };
        assert_eq!((fin, payload), (false, (4, 260)));
        assert!(parse(&[0x81, 0x81, 0, 0, 0, 0, b'x']).is_err(), "servers do not mask");
    }
}
