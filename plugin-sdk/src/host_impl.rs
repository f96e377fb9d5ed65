//! Where host calls go: roomd on wasm, the in-memory stand-in elsewhere.

#[cfg(target_arch = "wasm32")]
pub(crate) use crate::bindings::roomd::plugin::host::{
    disconnect, join, kv_delete, kv_get, kv_keys, leave, log, rooms_of, skip_events, sockets_in,
};

#[cfg(target_arch = "wasm32")]
pub(crate) fn emit(target: &crate::Target, event: &str, payload: &crate::Payload) -> Result<u32, String> {
    crate::bindings::roomd::plugin::host::emit(target, event, payload)
}

#[cfg(target_arch = "wasm32")]
pub(crate) fn kv_set(key: &str, value: &[u8]) {
    crate::bindings::roomd::plugin::host::kv_set(key, value)
}

#[cfg(not(target_arch = "wasm32"))]
pub(crate) use crate::testing::native::*;
