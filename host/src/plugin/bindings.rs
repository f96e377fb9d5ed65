//! Generated host bindings for `plugin-sdk/wit/roomd.wit`, and nothing else.
//!
//! Everything here is produced by `wasmtime::component::bindgen!`; the hand-written host
//! side of the `host` interface lives in `host_api.rs`.

wasmtime::component::bindgen!({
    path: "../plugin-sdk/wit",
    world: "plugin",
});
