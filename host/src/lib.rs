//! roomd: a Socket.IO server (Engine.IO v4 + Socket.IO v5) with rooms and namespaces.
//!
//! The crate is layered; each layer talks only to its neighbours:
//!
//! - [`sid`]: session and socket ids.
//! - [`engineio`]: Engine.IO sessions over long-polling and WebSocket, heartbeat, limits.
//! - [`socketio`]: Socket.IO packets, namespaces, sockets, acknowledgements.
//! - [`adapter`]: room membership and broadcast resolution behind the [`adapter::Adapter`] trait.
//! - [`relay`]: the standalone server's behaviour: room requests and event relay, per
//!   namespace policy.
//! - [`middleware`]: a namespace's plugin chain, verdicts combined, failure policy applied.
//! - [`plugin`]: WebAssembly plugins (the only module that imports wasmtime): engine,
//!   compilation, sandboxed instances, the host API, hot swap.
//! - [`config`]: `config.toml` parsed and validated into [`config::Config`].
//! - [`app`]: the standalone server assembled from a config, and its reload.
//! - [`reload`]: watching `config.toml` and plugin files.
//! - [`server`]: HTTP routing, the accept loop and graceful shutdown.
//! - [`site`]: static files and the demo token endpoint.
//! - [`metrics`]: process-wide counters.

pub mod adapter;
pub mod app;
pub mod config;
pub mod engineio;
pub mod metrics;
pub mod middleware;
pub mod plugin;
pub mod relay;
pub mod reload;
pub mod server;
pub mod sid;
pub mod site;
pub mod socketio;
