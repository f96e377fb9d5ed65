//! The key-value store plugins reach through `kv-get` / `kv-set` / ...: one keyspace per
//! (plugin, namespace), kept by the host so it outlives instances — a trapped instance is
//! replaced and a hot-swapped one takes over, and the state is still there.
//!
//! [`KeyValue`] is the seam a cluster backend (Redis) implements later; [`MemoryKv`] keeps
//! everything in this process.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};

/// Whose keys: a plugin's, in one namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Scope {
    /// The plugin's name in config.
    pub plugin: Arc<str>,
    /// The namespace (or namespace pattern) the instance serves.
    pub namespace: Arc<str>,
}

/// A key-value store partitioned by [`Scope`]. Calls are synchronous and short: they run
/// inside a plugin call.
pub trait KeyValue: Send + Sync + 'static {
    /// The value under `key`.
    fn get(&self, scope: &Scope, key: &str) -> Option<Vec<u8>>;
    /// Stores `value` under `key`.
    fn set(&self, scope: &Scope, key: &str, value: Vec<u8>);
    /// Removes `key`.
    fn delete(&self, scope: &Scope, key: &str);
    /// Keys starting with `prefix`, sorted.
    fn keys(&self, scope: &Scope, prefix: &str) -> Vec<String>;
}

/// Most bytes one scope may hold (keys and values). A plugin that tries to store more
/// has the write refused (logged), so a buggy plugin cannot exhaust the host's memory.
pub const MAX_SCOPE_BYTES: usize = 64 * 1024 * 1024;

/// The in-process store.
#[derive(Debug, Default)]
pub struct MemoryKv {
    /// A std mutex: every operation is a map step, never an await.
    scopes: Mutex<BTreeMap<Scope, ScopeData>>,
}

#[derive(Debug, Default)]
struct ScopeData {
    entries: BTreeMap<String, Vec<u8>>,
    bytes: usize,
}

impl MemoryKv {
    fn with<R>(&self, scope: &Scope, f: impl FnOnce(&mut ScopeData) -> R) -> R {
        let mut scopes = self.scopes.lock().unwrap_or_else(|e| e.into_inner());
        f(scopes.entry(scope.clone()).or_default())
    }
}

impl KeyValue for MemoryKv {
    fn get(&self, scope: &Scope, key: &str) -> Option<Vec<u8>> {
        self.with(scope, |data| data.entries.get(key).cloned())
    }

    fn set(&self, scope: &Scope, key: &str, value: Vec<u8>) {
        self.with(scope, |data| {
            let old = data.entries.get(key).map_or(0, |v| key.len() + v.len());
            let new = key.len() + value.len();
            if data.bytes - old + new > MAX_SCOPE_BYTES {
                tracing::warn!(plugin = %scope.plugin, namespace = %scope.namespace, key, "kv-set refused: scope over {MAX_SCOPE_BYTES} bytes");
                return;
            }
            data.bytes = data.bytes - old + new;
            data.entries.insert(key.to_owned(), value);
        })
    }

    fn delete(&self, scope: &Scope, key: &str) {
        self.with(scope, |data| {
            if let Some(old) = data.entries.remove(key) {
                data.bytes -= key.len() + old.len();
            }
        })
    }

    fn keys(&self, scope: &Scope, prefix: &str) -> Vec<String> {
        self.with(scope, |data| {
            data.entries.range(prefix.to_owned()..).take_while(|(k, _)| k.starts_with(prefix)).map(|(k, _)| k.clone()).collect()
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scopes_are_separate_and_keys_sorted() {
        let kv = MemoryKv::default();
        let a = Scope { plugin: "p".into(), namespace: "/a".into() };
        let b = Scope { plugin: "p".into(), namespace: "/b".into() };
        kv.set(&a, "user:2", b"x".to_vec());
        kv.set(&a, "user:1", b"y".to_vec());
        kv.set(&a, "room:1", b"z".to_vec());
        assert_eq!(kv.keys(&a, "user:"), vec!["user:1", "user:2"]);
        assert_eq!(kv.get(&b, "user:1"), None);
        kv.delete(&a, "user:1");
        assert_eq!(kv.keys(&a, ""), vec!["room:1", "user:2"]);
    }

    #[test]
    fn a_scope_cannot_grow_past_its_limit() {
        let kv = MemoryKv::default();
        let a = Scope { plugin: "p".into(), namespace: "/".into() };
        kv.set(&a, "big", vec![0; MAX_SCOPE_BYTES - 10]);
        kv.set(&a, "more", vec![0; 100]);
        assert_eq!(kv.get(&a, "more"), None);
        kv.set(&a, "big", vec![0; 10]);
        kv.set(&a, "more", vec![0; 100]);
        assert_eq!(kv.get(&a, "more").map(|v| v.len()), Some(100));
    }
}
