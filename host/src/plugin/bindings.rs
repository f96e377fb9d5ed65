//! Generated host bindings for `plugin-sdk/wit/roomd.wit`, and nothing else.
//!
//! Everything here is produced by `wasmtime::component::bindgen!`; the hand-written host
//! side of the `host` interface lives in `host_api.rs`.

/// The host's side of a lent `socket` resource. It carries nothing: a hook is about one
/// socket, kept in `HostState` for the length of the call, and the lent handle cannot
/// outlive the call.
pub struct SocketResource;

wasmtime::component::bindgen!({
    path: "../plugin-sdk/wit",
    world: "plugin",
    // The `socket` a hook is lent: the host keeps the socket of the current call in
    // `HostState`, so the resource carries nothing.
    with: { "roomd:plugin/types.socket": SocketResource },
});
