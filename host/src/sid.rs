//! Session and socket identifiers.
//!
//! Engine.IO session ids and Socket.IO socket ids share one representation: 15 random
//! bytes in URL-safe base64, 20 ASCII characters, stored inline so that an id is `Copy`,
//! hashes fast and costs no allocation per connection.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::hash::{BuildHasherDefault, Hash, Hasher};
use std::str::FromStr;

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;

/// Length in characters of every id roomd issues.
pub const SID_LEN: usize = 20;

/// A random, unguessable identifier: an Engine.IO session id or a Socket.IO socket id.
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Sid([u8; SID_LEN]);

/// Ids are random and chosen by the server, so maps keyed by them need no DoS-resistant
/// hashing: eight bytes of the id, mixed once, are a good hash. Use with [`SidMap`] and
/// [`SidSet`].
impl Hash for Sid {
    fn hash<H: Hasher>(&self, state: &mut H) {
        let mut word = [0u8; 8];
        word.copy_from_slice(&self.0[..8]);
        state.write_u64(u64::from_le_bytes(word));
    }
}

/// The hasher for maps keyed by [`Sid`]: one multiply of the id's leading bytes.
#[derive(Debug, Default, Clone, Copy)]
pub struct SidHasher(u64);

impl Hasher for SidHasher {
    fn finish(&self) -> u64 {
        self.0
    }

    fn write(&mut self, bytes: &[u8]) {
        // Only reached by keys other than `Sid`; fold them in all the same.
        for chunk in bytes.chunks(8) {
            let mut word = [0u8; 8];
            word[..chunk.len()].copy_from_slice(chunk);
            self.write_u64(u64::from_le_bytes(word));
        }
    }

    fn write_u64(&mut self, value: u64) {
        self.0 = (self.0 ^ value).wrapping_mul(0x9e37_79b9_7f4a_7c15);
    }
}

/// A hash map keyed by [`Sid`].
pub type SidMap<V> = HashMap<Sid, V, BuildHasherDefault<SidHasher>>;

/// A hash set of [`Sid`]s.
pub type SidSet = HashSet<Sid, BuildHasherDefault<SidHasher>>;

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
    fn sid_maps_spread_keys() {
        let mut set = SidSet::default();
        let ids: Vec<Sid> = (0..1000).map(|_| Sid::random()).collect();
        set.extend(ids.iter().copied());
        assert_eq!(set.len(), 1000);
        assert!(ids.iter().all(|id| set.contains(id)));
        let hashes: HashSet<u64> = ids
            .iter()
            .map(|id| {
                let mut hasher = SidHasher::default();
                id.hash(&mut hasher);
                hasher.finish()
            })
            .collect();
        assert_eq!(hashes.len(), 1000, "distinct ids hash apart");
    }

    #[test]
    fn rejects_foreign_text() {
        assert_eq!("short".parse::<Sid>(), Err(InvalidSid));
        assert_eq!("aaaaaaaaaaaaaaaaaaa/".parse::<Sid>(), Err(InvalidSid));
        assert_eq!("ééééééééééaaaaaaaaaa".parse::<Sid>(), Err(InvalidSid));
    }
}
