//! Session and socket identifiers.
//!
//! Engine.IO session ids and Socket.IO socket ids share one representation: 15 random
//! bytes in URL-safe base64, 20 ASCII characters, stored inline so that an id is `Copy`,
//! hashes fast and costs no allocation per connection.

use std::fmt;
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Length in characters of every id roomd issues.
pub const SID_LEN: usize = 20;

/// A random, unguessable identifier: an Engine.IO session id or a Socket.IO socket id.
#[derive(Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Sid([u8; SID_LEN]);

impl Sid {
    /// Draws a fresh id from the operating system's random source.
    pub fn random() -> Sid {
        let mut raw = [0u8; 15];
        // The OS random source failing is unrecoverable for a server that must issue
        // unguessable ids; there is no safe fallback.
        getrandom::fill(&mut raw).expect("operating system random source unavailable");
        let mut out = [0u8; SID_LEN];
        let written = URL_SAFE_NO_PAD
            .encode_slice(raw, &mut out)
            .expect("15 bytes encode to exactly 20 characters");
        debug_assert_eq!(written, SID_LEN);
        Sid(out)
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        // Only ever built from base64 output or validated ASCII in `from_str`.
        std::str::from_utf8(&self.0).unwrap_or_default()
    }
}

/// The text is not an id roomd could have issued.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("not a valid session id")]
pub struct InvalidSid;

impl FromStr for Sid {
    type Err = InvalidSid;

    fn from_str(s: &str) -> Result<Sid, InvalidSid> {
        let bytes: [u8; SID_LEN] = s.as_bytes().try_into().map_err(|_| InvalidSid)?;
        if bytes.iter().all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_') {
            Ok(Sid(bytes))
        } else {
            Err(InvalidSid)
        }
    }
}

impl fmt::Display for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl fmt::Debug for Sid {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Sid({})", self.as_str())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn random_ids_round_trip_and_differ() {
        let a = Sid::random();
        let b = Sid::random();
        assert_ne!(a, b);
        assert_eq!(a.as_str().len(), SID_LEN);
        assert_eq!(a.as_str().parse::<Sid>(), Ok(a));
    }

    #[test]
    fn rejects_foreign_text() {
        assert_eq!("short".parse::<Sid>(), Err(InvalidSid));
        assert_eq!("aaaaaaaaaaaaaaaaaaa/".parse::<Sid>(), Err(InvalidSid));
        assert_eq!("ééééééééééaaaaaaaaaa".parse::<Sid>(), Err(InvalidSid));
    }
}
