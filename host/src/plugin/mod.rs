//! WebAssembly plugins: the only module that imports wasmtime.
//!
//! It owns the engine, compilation (cached by content hash, done off the hot path),
//! instances and their sandbox, the host side of the plugin contract, and the hot swap of
//! an instance's code. What a plugin's verdict *means* for a connection or an event is
//! decided by `middleware`; this module only runs plugins and reports what they answered
//! or how they failed.
//!
//! The sandbox: WASI with wasmtime-wasi's default context (no files, no environment, no
//! network, output discarded; clocks and randomness only), an epoch deadline on every
//! call and a memory limit per instance. A plugin that traps, runs past its deadline or
//! runs out of memory yields a [`PluginError`] and its instance is replaced by a fresh one
//! on the next call; the host never goes down with it.

#[allow(missing_docs, unreachable_pub)]
mod bindings;
mod host_api;
mod instance;
pub mod kv;
mod wasi;

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, LazyLock, Mutex};
use std::time::Duration;

use wasmtime::component::{Component, HasSelf, Linker};
use wasmtime::{Config as WasmConfig, Engine};

pub use bindings::roomd::plugin::types::{
    Burst as WitBurst, BurstEvent as WitBurstEvent, ConnectVerdict, Event as WitEvent, EventFilter, EventVerdict,
    Handshake as WitHandshake, Hooks, Interests, Payload as WitPayload, Rejection,
};
pub use instance::{Deferred, PluginSlot, Prepared, SocketInfo};

use instance::HostState;

/// How often the engine's epoch advances. A call's deadline is a whole number of ticks,
/// so a call runs at least its timeout and less than two ticks more. Every tick wakes a
/// thread on a core the server uses: at 1 ms those wake-ups cost about a tenth of what
/// one plugin call per chat message costs in all (measured), at 10 ms a hundredth.
pub const EPOCH_TICK: Duration = Duration::from_millis(10);

/// Default deadline of one call into a plugin. Bounds how long a runaway plugin can hold
/// a connection's task (and its instance) before it is stopped.
pub const DEFAULT_TIMEOUT: Duration = Duration::from_millis(100);

/// Deadline of the calls that set an instance up or hand its state over: `init`,
/// `snapshot`, `restore`. They run once per instance, off the event path, and may do real
/// work (a profanity filter builds its word trie in `init`), so they get far more time
/// than a hook — but still a bound.
pub const SETUP_TIMEOUT: Duration = Duration::from_secs(5);

/// Default linear-memory limit of one instance. Bounds what a leaking or hostile plugin
/// can take from the host.
pub const DEFAULT_MAX_MEMORY: usize = 32 * 1024 * 1024;

/// What happens when a plugin fails (traps, times out, runs out of memory, answers
/// nonsense) while deciding.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, serde::Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum FailurePolicy {
    /// Refuse: the connection gets CONNECT_ERROR, the event is dropped with an error ack.
    #[default]
    FailClosed,
    /// Carry on as if the plugin had allowed it.
    FailOpen,
}

/// One plugin as configured: its code and how to run it.
#[derive(Debug, Clone, PartialEq)]
pub struct PluginSpec {
    /// The plugin's name in config.
    pub name: Arc<str>,
    /// The `.wasm` component.
    pub path: PathBuf,
    /// Its config table, as JSON text, given to `init`.
    pub config: String,
    /// What a failure turns into.
    pub on_error: FailurePolicy,
    /// Deadline of one call.
    pub timeout: Duration,
    /// Linear-memory limit of one instance, in bytes.
    pub max_memory: usize,
}

/// How a call into a plugin failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PluginError {
    /// The `.wasm` could not be read or compiled, or the instance could not be created or
    /// initialised.
    #[error("cannot load: {0}")]
    Load(String),
    /// The plugin trapped (a panic, an out-of-bounds access, ...).
    #[error("trapped: {0}")]
    Trap(String),
    /// The call ran past its deadline.
    #[error("timed out")]
    Timeout,
    /// The instance hit its memory limit.
    #[error("out of memory")]
    OutOfMemory,
    /// The plugin answered something the host cannot use.
    #[error("bad output: {0}")]
    BadOutput(String),
}

/// Compiled code plus the engine it belongs to: everything needed to make instances.
#[derive(Clone)]
pub struct Code {
    component: Component,
    /// Content hash of the `.wasm`, to tell a real change from a touched file.
    pub hash: u64,
}

/// The process-wide wasmtime engine, its linker, its epoch ticker and its compile cache.
struct Runtime {
    engine: Engine,
    linker: Linker<HostState>,
    /// Compiled components by content hash. A std mutex: held for a map lookup or insert,
    /// never while compiling.
    cache: Mutex<HashMap<u64, Component>>,
}

static RUNTIME: LazyLock<Runtime> = LazyLock::new(|| {
    let mut config = WasmConfig::new();
    config.epoch_interruption(true);
    config.wasm_component_model(true);
    // For `perf`: name the compiled plugin functions in /tmp/perf-<pid>.map.
    if std::env::var_os("ROOMD_PERF_MAP").is_some() {
        config.profiler(wasmtime::ProfilingStrategy::PerfMap);
    }
    let engine = Engine::new(&config).expect("wasmtime engine configuration is valid");
    let mut linker = Linker::new(&engine);
    wasi::add_to_linker(&mut linker).expect("WASI links");
    bindings::Plugin::add_to_linker::<HostState, HasSelf<HostState>>(&mut linker, |state| state)
        .expect("host interface links");
    let ticker = engine.weak();
    std::thread::Builder::new()
        .name("roomd-epoch".into())
        .spawn(move || {
            while let Some(engine) = ticker.upgrade() {
                engine.increment_epoch();
                drop(engine);
                std::thread::sleep(EPOCH_TICK);
            }
        })
        .expect("spawn the epoch ticker");
    Runtime { engine, linker, cache: Mutex::new(HashMap::new()) }
});

/// Reads and compiles the plugin at `spec.path`. Slow (tens of milliseconds for a new
/// file): call it off the hot path. Unchanged bytes come from the cache.
pub fn compile(spec: &PluginSpec) -> Result<Code, PluginError> {
    let bytes = std::fs::read(&spec.path).map_err(|e| PluginError::Load(format!("{}: {e}", spec.path.display())))?;
    let hash = content_hash(&bytes);
    let runtime = &*RUNTIME;
    if let Some(component) = runtime.cache.lock().unwrap_or_else(|e| e.into_inner()).get(&hash) {
        return Ok(Code { component: component.clone(), hash });
    }
    let component = Component::new(&runtime.engine, &bytes)
        .map_err(|e| PluginError::Load(format!("{}: not a roomd plugin component: {e:#}", spec.path.display())))?;
    runtime.cache.lock().unwrap_or_else(|e| e.into_inner()).insert(hash, component.clone());
    Ok(Code { component, hash })
}

/// FNV-1a: a fast, stable fingerprint of a file's bytes (not a security measure).
fn content_hash(bytes: &[u8]) -> u64 {
    bytes.iter().fold(0xcbf2_9ce4_8422_2325u64, |hash, b| (hash ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3))
}
