//! The HTTP request that opened a session, as the session keeps it for the layers above:
//! its query, its headers (packed), its peer.

use std::net::SocketAddr;

/// The HTTP request that opened the session, as the layers above may want to see it.
#[derive(Debug)]
pub struct Handshake {
    /// The raw query string of the first request.
    pub query: String,
    /// The headers of the first request.
    pub headers: Headers,
    /// The peer's address.
    pub remote: Option<SocketAddr>,
}

/// The headers a session keeps from its first request, for the layers above (a plugin's
/// `on_connect` sees them at every CONNECT, however late). Names in lower case; values as
/// text (bytes that are not UTF-8 become U+FFFD).
///
/// Packed into one exactly sized allocation, `name NUL value NUL ...` (HTTP forbids NUL
/// in both): a session lives as long as its connection, and a `HeaderMap` would cost
/// it a hash index, a bucket per header and an allocation per value.
#[derive(Clone, Default, PartialEq, Eq)]
pub struct Headers {
    packed: Box<str>,
}

impl Headers {
    /// A copy of `map` (never a slice of the connection's read buffer, which it would keep
    /// alive).
    pub fn from_map(map: &http::HeaderMap) -> Headers {
        let mut packed = String::with_capacity(map.iter().map(|(n, v)| n.as_str().len() + v.len() + 2).sum());
        for (name, value) in map {
            packed.push_str(name.as_str());
            packed.push('\0');
            packed.push_str(&String::from_utf8_lossy(value.as_bytes()));
            packed.push('\0');
        }
        Headers { packed: packed.into_boxed_str() }
    }

    /// The headers in request order, a repeated name once per value.
    pub fn iter(&self) -> impl Iterator<Item = (&str, &str)> {
        let mut parts = self.packed.split_terminator('\0');
        std::iter::from_fn(move || Some((parts.next()?, parts.next()?)))
    }

    /// The first value of the header `name` (lower case).
    pub fn get(&self, name: &str) -> Option<&str> {
        self.iter().find(|(n, _)| *n == name).map(|(_, v)| v)
    }
}

impl std::fmt::Debug for Headers {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_map().entries(self.iter()).finish()
    }
}


#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_are_packed_copies_in_request_order() {
        use http::header::{self, HeaderValue};
        // hyper parses header values as slices of the connection's read buffer.
        let buffer = bytes::Bytes::from(vec![b'x'; 8192]);
        let mut map = http::HeaderMap::new();
        map.insert(header::USER_AGENT, HeaderValue::from_maybe_shared(buffer.slice(0..16)).unwrap());
        map.append(header::ACCEPT, HeaderValue::from_static("text/plain"));
        map.append(header::ACCEPT, HeaderValue::from_static("*/*"));
        map.insert("x-raw", HeaderValue::from_bytes(b"caf\xe9").unwrap());
        let headers = Headers::from_map(&map);
        let kept: Vec<_> = headers.iter().collect();
        assert_eq!(
            kept,
            [("user-agent", "xxxxxxxxxxxxxxxx"), ("accept", "text/plain"), ("accept", "*/*"), ("x-raw", "caf\u{fffd}")]
        );
        assert_eq!(headers.get("accept"), Some("text/plain"));
        assert_eq!(headers.get("cookie"), None);
        assert!(!buffer.as_ptr_range().contains(&headers.get("user-agent").unwrap().as_ptr()), "copied, not a slice");
        assert_eq!(Headers::default().iter().count(), 0);
    }
}
