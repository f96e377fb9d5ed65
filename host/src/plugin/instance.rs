//! Instances and the slot that holds one: calls serialized, traps contained, code
//! swapped in place.
//!
//! A [`PluginSlot`] is one plugin serving one namespace. Every call locks the slot, runs
//! under the instance's epoch deadline and memory limit, and unlocks before the actions
//! the plugin asked for (`join`, `leave`, `disconnect`) are carried out — those may call
//! back into plugins, this one included. A trapped instance cannot be entered again: it is
//! dropped, and the next call builds a fresh one (state kept in the host's key-value
//! store survives). A hot swap builds and initialises the new instance first, then, under
//! the lock, moves the old instance's snapshot into it: calls that started before finish
//! on the old code, every later call runs on the new, none runs twice or is lost.
//!
//! A plugin declares at `init` which hooks and events it wants ([`Interests`]), and may
//! later ask not to see one socket's events (`skip-events`); the slot keeps both where
//! the chain can read them ([`PluginSlot::wants`], [`PluginSlot::wanted_events`],
//! [`PluginSlot::skips_events_of`]) without waiting for a call in progress, and the chain
//! makes no other call.

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex, RwLock};

use wasmtime::component::{Resource, ResourceTable};
use wasmtime::{ResourceLimiter, Store};
use wasmtime_wasi::{WasiCtx, WasiCtxView, WasiView};

use super::bindings;
use super::bindings::SocketResource;
use super::bindings::roomd::plugin::types::{
    Burst as WitBurst, ConnectVerdict, Event as WitEvent, EventFilter, EventVerdict, Handshake as WitHandshake, Hooks,
    Interests,
};
use super::kv::{KeyValue, Scope};
use super::{Code, EPOCH_TICK, PluginError, PluginSpec, RUNTIME, SETUP_TIMEOUT};
use crate::adapter::Room;
use crate::metrics::METRICS;
use crate::sid::{Sid, SidSet};
use crate::socketio::{Namespace, Socket};

/// Most `join` / `leave` / `disconnect` requests one call may make. Bounds the work a
/// plugin can queue for the host in a single hook.
pub(super) const MAX_ACTIONS_PER_CALL: usize = 1024;

/// Most table elements an instance may have. Bounds the other growable resource.
const MAX_TABLE_ELEMENTS: usize = 100_000;

/// An action a plugin asked for, carried out when its call returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Deferred {
    /// Put the socket in the room.
    Join(Sid, String),
    /// Take the socket out of the room.
    Leave(Sid, String),
    /// Disconnect the socket from the namespace.
    Disconnect(Sid),
    /// Stop calling `on-event` for the socket's events (the slot's own business).
    SkipEvents(Sid),
}

impl Deferred {
    /// The socket the action is for.
    fn socket(&self) -> Sid {
        match self {
            Deferred::Join(sid, _) | Deferred::Leave(sid, _) | Deferred::Disconnect(sid) | Deferred::SkipEvents(sid) => *sid,
        }
    }
}

/// What a plugin can learn about the socket a hook is about, through the `socket`
/// resource the hook is lent. Cheap to clone: the data is shared, not copied.
#[derive(Debug, Clone)]
pub struct SocketInfo {
    /// The socket id.
    pub id: Sid,
    /// What plugins attached at connect: a JSON object text.
    pub data: Arc<str>,
}

impl SocketInfo {
    /// The plugin's view of `socket`.
    pub fn of(socket: &Socket) -> SocketInfo {
        SocketInfo { id: socket.id(), data: socket.shared_data() }
    }
}

/// The handle a hook is lent for its socket.
fn lent() -> Resource<SocketResource> {
    Resource::new_borrow(0)
}

/// Refuses memory growth past the limit, and remembers that it did: the trap that
/// follows (an allocation failure aborts a Rust guest) is then reported as
/// [`PluginError::OutOfMemory`].
struct MemoryLimit {
    max: usize,
    exceeded: bool,
}

impl ResourceLimiter for MemoryLimit {
    fn memory_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        let allowed = desired <= self.max;
        self.exceeded |= !allowed;
        Ok(allowed)
    }

    fn table_growing(&mut self, _current: usize, desired: usize, _maximum: Option<usize>) -> wasmtime::Result<bool> {
        Ok(desired <= MAX_TABLE_ELEMENTS)
    }
}

/// What the host side of the contract sees during a call.
pub(super) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    limits: MemoryLimit,
    pub(super) plugin: Arc<str>,
    /// The namespace of the socket the current call is about; `None` between calls.
    pub(super) namespace: Option<Namespace>,
    /// The socket the current hook is about (what its lent `socket` resource reads);
    /// `None` between calls and in `on-connect`.
    pub(super) socket: Option<SocketInfo>,
    /// Actions requested during the current call.
    pub(super) deferred: Vec<Deferred>,
    pub(super) kv: Arc<dyn KeyValue>,
    pub(super) scope: Scope,
}

impl HostState {
    pub(super) fn table(&mut self) -> &mut ResourceTable {
        &mut self.table
    }
}

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView { ctx: &mut self.wasi, table: &mut self.table }
    }
}

struct Instance {
    store: Store<HostState>,
    exports: bindings::Plugin,
    /// What its `init` asked to be called for.
    interests: Interests,
}

fn deadline_ticks(spec: &PluginSpec) -> u64 {
    ticks(spec.timeout)
}

/// The deadline, in ticks from now, that stops a call no sooner than `timeout` after it
/// starts: the current tick may be about to end, so one more than the timeout's ticks.
fn ticks(timeout: std::time::Duration) -> u64 {
    timeout.as_micros().div_ceil(EPOCH_TICK.as_micros()) as u64 + 1
}

impl Instance {
    /// Instantiates `code` and runs its `init` with the plugin's config.
    fn new(code: &Code, spec: &PluginSpec, kv: Arc<dyn KeyValue>, scope: Scope) -> Result<Instance, PluginError> {
        let state = HostState {
            // The default context denies everything but clocks and randomness.
            wasi: WasiCtx::builder().build(),
            table: ResourceTable::new(),
            limits: MemoryLimit { max: spec.max_memory, exceeded: false },
            plugin: spec.name.clone(),
            namespace: None,
            socket: None,
            deferred: Vec::new(),
            kv,
            scope,
        };
        let mut store = Store::new(&RUNTIME.engine, state);
        store.limiter(|state| &mut state.limits);
        store.set_epoch_deadline(ticks(SETUP_TIMEOUT));
        let exports = bindings::Plugin::instantiate(&mut store, &code.component, &RUNTIME.linker)
            .map_err(|e| PluginError::Load(instantiation_failed(&format!("{e:#}"))))?;
        store.set_epoch_deadline(ticks(SETUP_TIMEOUT));
        match exports.call_init(&mut store, &spec.config) {
            Ok(Ok(interests)) => Ok(Instance { store, exports, interests }),
            Ok(Err(message)) => Err(PluginError::Load(format!("init refused its config: {message}"))),
            Err(error) => Err(PluginError::Load(format!("init failed: {}", classify(error, store.data().limits.exceeded)))),
        }
    }
}

/// The version of the plugin contract this host implements (`plugin-sdk/wit`).
const CONTRACT_VERSION: &str = "0.3.0";

/// Why a component could not be instantiated, with the likely fix when it was built
/// against another version of the contract.
fn instantiation_failed(why: &str) -> String {
    if why.contains("roomd:plugin/") && !why.contains(&format!("@{CONTRACT_VERSION}")) {
        return format!(
            "cannot instantiate: {why} (built against another plugin contract than roomd:plugin@{CONTRACT_VERSION}: \
             rebuild it with this roomd's plugin-sdk)"
        );
    }
    format!("cannot instantiate: {why}")
}

/// Turns a failed call into the error the failure policy acts on.
fn classify(error: wasmtime::Error, out_of_memory: bool) -> PluginError {
    if out_of_memory {
        return PluginError::OutOfMemory;
    }
    match error.downcast_ref::<wasmtime::Trap>() {
        Some(wasmtime::Trap::Interrupt) => PluginError::Timeout,
        Some(trap) => PluginError::Trap(trap.to_string()),
        None => PluginError::Trap(format!("{error:#}")),
    }
}

/// A new instance, initialised and waiting to be installed by a swap.
pub struct Prepared {
    spec: Arc<PluginSpec>,
    code: Code,
    instance: Instance,
}

struct Live {
    spec: Arc<PluginSpec>,
    code: Code,
    /// `None` after a trap, until the next call instantiates afresh.
    instance: Option<Instance>,
}

/// The sockets a plugin asked not to see events from, and the version of its code that
/// asked (bumped by every swap).
#[derive(Default)]
struct Skipping {
    version: u64,
    sockets: SidSet,
}

/// One plugin serving one namespace (or namespace pattern).
pub struct PluginSlot {
    name: Arc<str>,
    kv: Arc<dyn KeyValue>,
    scope: Scope,
    /// The instance and the code it runs. A std mutex: a plugin call is synchronous and
    /// short (bounded by its epoch deadline), and the lock is never held across an
    /// `.await` or while deferred actions run.
    live: Mutex<Live>,
    /// What the live code asked to be called for. Kept apart from `live` so that deciding
    /// to skip a call never waits for a call in progress; locked only to read or replace.
    interests: RwLock<Interests>,
    /// Sockets whose events the live code asked not to see (`skip-events`). Emptied on a
    /// swap, so a new version asks again; a socket leaves it when it disconnects. Locked
    /// like `interests`.
    skipping: RwLock<Skipping>,
    /// How many sockets `skipping` holds, so that a plugin that skips none (most) is
    /// asked about a socket without a lock. Written under `skipping`'s write lock.
    skipped: AtomicUsize,
    failures: AtomicU64,
    calls: AtomicU64,
}

impl PluginSlot {
    /// A slot running `code`, instantiated and initialised now so a bad plugin is caught
    /// before it serves anyone.
    pub fn new(spec: Arc<PluginSpec>, code: Code, kv: Arc<dyn KeyValue>, namespace: &str) -> Result<PluginSlot, PluginError> {
        let scope = Scope { plugin: spec.name.clone(), namespace: Arc::from(namespace) };
        let instance = Instance::new(&code, &spec, kv.clone(), scope.clone())?;
        Ok(PluginSlot {
            name: spec.name.clone(),
            kv,
            scope,
            interests: RwLock::new(instance.interests.clone()),
            skipping: RwLock::new(Skipping::default()),
            skipped: AtomicUsize::new(0),
            live: Mutex::new(Live { spec, code, instance: Some(instance) }),
            failures: AtomicU64::new(0),
            calls: AtomicU64::new(0),
        })
    }

    /// The plugin's name in config.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The spec the slot currently runs.
    pub fn spec(&self) -> Arc<PluginSpec> {
        self.lock().spec.clone()
    }

    /// Failed calls so far.
    pub fn failures(&self) -> u64 {
        self.failures.load(Ordering::Relaxed)
    }

    /// Calls into the plugin so far (one per hook call, however many events it carried).
    pub fn calls(&self) -> u64 {
        self.calls.load(Ordering::Relaxed)
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Live> {
        self.live.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Whether the plugin wants `hook` called.
    pub fn wants(&self, hook: Hooks) -> bool {
        self.interests.read().unwrap_or_else(|e| e.into_inner()).hooks.contains(hook)
    }

    /// Calls `want` with the position of every event among `names` the plugin wants
    /// `on-event` for, reading its interests once for all of them.
    pub fn wanted_events<'a>(&self, names: impl IntoIterator<Item = &'a str>, mut want: impl FnMut(usize)) {
        let interests = self.interests.read().unwrap_or_else(|e| e.into_inner());
        for (i, name) in names.into_iter().enumerate() {
            let wanted = match &interests.events {
                EventFilter::All => true,
                EventFilter::Only(names) => names.iter().any(|n| n == name),
                EventFilter::AllExcept(names) => !names.iter().any(|n| n == name),
            };
            if wanted {
                want(i);
            }
        }
    }

    /// Whether the plugin asked not to see `sid`'s events.
    pub fn skips_events_of(&self, sid: Sid) -> bool {
        self.skipped.load(Ordering::Acquire) != 0 && self.skipping.read().unwrap_or_else(|e| e.into_inner()).sockets.contains(&sid)
    }

    /// How many sockets the plugin has asked not to see events from.
    pub fn skipped_sockets(&self) -> usize {
        self.skipped.load(Ordering::Acquire)
    }

    /// Forgets a socket that has left the namespace.
    pub fn forget(&self, sid: Sid) {
        if self.skips_events_of(sid) {
            let mut skipping = self.skipping.write().unwrap_or_else(|e| e.into_inner());
            skipping.sockets.remove(&sid);
            self.skipped.store(skipping.sockets.len(), Ordering::Release);
        }
    }

    fn set_interests(&self, interests: &Interests) {
        *self.interests.write().unwrap_or_else(|e| e.into_inner()) = interests.clone();
    }

    /// Replaces the code (and config) the slot runs, carrying the state across through
    /// `snapshot` / `restore`. On any failure the old instance stays live.
    pub fn swap(&self, spec: Arc<PluginSpec>, code: Code) -> Result<(), PluginError> {
        let next = self.prepare(spec, code)?;
        self.install(next)
    }

    /// Builds and initialises the instance a swap will install, without touching the live
    /// one. Slow (instantiation, `init`): done before taking the slot's lock.
    pub fn prepare(&self, spec: Arc<PluginSpec>, code: Code) -> Result<Prepared, PluginError> {
        let instance = Instance::new(&code, &spec, self.kv.clone(), self.scope.clone())?;
        Ok(Prepared { spec, code, instance })
    }

    /// Installs a prepared instance: under the lock, the live instance's snapshot is
    /// restored into it and it takes over. If `restore` fails the live instance stays.
    pub fn install(&self, prepared: Prepared) -> Result<(), PluginError> {
        let Prepared { spec, code, instance: mut next } = prepared;
        let mut live = self.lock();
        let state = match live.instance.as_mut() {
            Some(old) => {
                old.store.set_epoch_deadline(ticks(SETUP_TIMEOUT));
                old.exports.call_snapshot(&mut old.store).unwrap_or_else(|error| {
                    tracing::warn!(plugin = %self.name, %error, "snapshot failed; the new version starts empty");
                    Vec::new()
                })
            }
            None => Vec::new(),
        };
        next.store.set_epoch_deadline(ticks(SETUP_TIMEOUT));
        match next.exports.call_restore(&mut next.store, &state) {
            Ok(Ok(())) => {}
            Ok(Err(message)) => return Err(PluginError::Load(format!("restore refused the state: {message}"))),
            Err(error) => return Err(PluginError::Load(format!("restore failed: {error:#}"))),
        }
        self.set_interests(&next.interests);
        let mut skipping = self.skipping.write().unwrap_or_else(|e| e.into_inner());
        skipping.version += 1;
        skipping.sockets.clear();
        self.skipped.store(0, Ordering::Release);
        drop(skipping);
        *live = Live { spec, code, instance: Some(next) };
        Ok(())
    }

    /// Asks the plugin about a connection.
    pub fn on_connect(&self, namespace: &Namespace, handshake: &WitHandshake) -> Result<ConnectVerdict, PluginError> {
        self.call(namespace, None, |plugin, store| plugin.call_on_connect(store, handshake))
    }

    /// Tells the plugin a socket has connected.
    pub fn on_connected(&self, namespace: &Namespace, socket: &SocketInfo) -> Result<(), PluginError> {
        self.call(namespace, Some(socket), |plugin, store| plugin.call_on_connected(store, lent()))
    }

    /// Asks the plugin about an event.
    pub fn on_event(&self, namespace: &Namespace, socket: &SocketInfo, event: &WitEvent) -> Result<EventVerdict, PluginError> {
        self.call(namespace, Some(socket), |plugin, store| plugin.call_on_event(store, lent(), event))
    }

    /// Asks the plugin about several events of one socket at once: one verdict each.
    pub fn on_events(&self, namespace: &Namespace, socket: &SocketInfo, burst: &WitBurst) -> Result<Vec<EventVerdict>, PluginError> {
        self.call(namespace, Some(socket), |plugin, store| plugin.call_on_events(store, lent(), burst))
    }

    /// Tells the plugin a socket entered a room.
    pub fn on_room_joined(&self, namespace: &Namespace, socket: &SocketInfo, room: &str) -> Result<(), PluginError> {
        self.call(namespace, Some(socket), |plugin, store| plugin.call_on_room_joined(store, lent(), room))
    }

    /// Tells the plugin a socket left a room.
    pub fn on_room_left(&self, namespace: &Namespace, socket: &SocketInfo, room: &str) -> Result<(), PluginError> {
        self.call(namespace, Some(socket), |plugin, store| plugin.call_on_room_left(store, lent(), room))
    }

    /// Tells the plugin a socket is disconnecting.
    pub fn on_disconnect(&self, namespace: &Namespace, socket: &SocketInfo, reason: &str) -> Result<(), PluginError> {
        self.call(namespace, Some(socket), |plugin, store| plugin.call_on_disconnect(store, lent(), reason))
    }

    /// Runs one export on behalf of a socket of `namespace` (the hook's `socket`, if it
    /// is about one).
    fn call<R>(
        &self,
        namespace: &Namespace,
        socket: Option<&SocketInfo>,
        f: impl FnOnce(&bindings::Plugin, &mut Store<HostState>) -> wasmtime::Result<R>,
    ) -> Result<R, PluginError> {
        self.calls.fetch_add(1, Ordering::Relaxed);
        let (result, deferred, version) = {
            let mut live = self.lock();
            let live = &mut *live;
            // Which version of the code this call runs: a skip it asks for is that
            // version's, and does not outlive a swap that lands before it is applied.
            let version = self.skipping.read().unwrap_or_else(|e| e.into_inner()).version;
            if live.instance.is_none() {
                match Instance::new(&live.code, &live.spec, self.kv.clone(), self.scope.clone()) {
                    Ok(fresh) => {
                        self.set_interests(&fresh.interests);
                        live.instance = Some(fresh);
                    }
                    Err(error) => return Err(self.failed(error)),
                }
            }
            let instance = live.instance.as_mut().expect("instantiated above");
            let state = instance.store.data_mut();
            state.namespace = Some(namespace.clone());
            state.socket = socket.cloned();
            state.limits.exceeded = false;
            instance.store.set_epoch_deadline(deadline_ticks(&live.spec));
            // A host function that panics (a bug, or a WASI path not covered in `wasi.rs`)
            // must not take the connection's task down with it.
            let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| f(&instance.exports, &mut instance.store)))
                .unwrap_or_else(|panic| {
                    let message = panic.downcast_ref::<String>().map(String::as_str).or_else(|| panic.downcast_ref::<&str>().copied());
                    Err(wasmtime::format_err!("host panicked during the call: {}", message.unwrap_or("unknown")))
                });
            let state = instance.store.data_mut();
            state.namespace = None;
            state.socket = None;
            let deferred = std::mem::take(&mut state.deferred);
            let out_of_memory = state.limits.exceeded;
            let result = match outcome {
                Ok(value) => Ok(value),
                Err(error) => {
                    // A trapped instance cannot be entered again.
                    live.instance = None;
                    Err(classify(error, out_of_memory))
                }
            };
            (result, deferred, version)
        };
        let result = result.map_err(|error| self.failed(error));
        self.apply(namespace, deferred, version);
        result
    }

    /// Counts and logs a failure; returns it.
    pub(crate) fn failed(&self, error: PluginError) -> PluginError {
        let count = self.failures.fetch_add(1, Ordering::Relaxed) + 1;
        METRICS.plugin_failed(&self.name);
        tracing::warn!(plugin = %self.name, namespace = %self.scope.namespace, failures = count, %error, "plugin failed");
        error
    }
}

impl PluginSlot {
    /// Carries out what a call by `version` of the code asked for, with no lock held.
    fn apply(&self, namespace: &Namespace, deferred: Vec<Deferred>, version: u64) {
        for action in deferred {
            // A socket that has gone meanwhile needs nothing (and was already forgotten).
            let Some(socket) = namespace.socket(action.socket()) else { continue };
            match action {
                Deferred::Join(_, room) => {
                    socket.join(Room::from(room));
                }
                Deferred::Leave(_, room) => {
                    socket.leave(&room);
                }
                Deferred::Disconnect(_) => socket.disconnect(),
                Deferred::SkipEvents(sid) => {
                    let mut skipping = self.skipping.write().unwrap_or_else(|e| e.into_inner());
                    if skipping.version == version {
                        skipping.sockets.insert(sid);
                        self.skipped.store(skipping.sockets.len(), Ordering::Release);
                    }
                    drop(skipping);
                    // A socket closing meanwhile may have been forgotten before the insert;
                    // `connected` is cleared before the forgetting, so this catches it.
                    if !socket.connected() {
                        self.forget(sid);
                    }
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plugin_built_against_another_contract_is_told_to_rebuild() {
        let old = "component imports instance `roomd:plugin/host@0.1.0`, but a matching implementation was not found in the linker";
        assert!(instantiation_failed(old).contains("rebuild it with this roomd's plugin-sdk"));
        let other = "component imports instance `wasi:sockets/tcp@0.2.0`, but a matching implementation was not found";
        assert_eq!(instantiation_failed(other), format!("cannot instantiate: {other}"));
        let wit = include_str!("../../../plugin-sdk/wit/roomd.wit");
        assert!(wit.contains(&format!("package roomd:plugin@{CONTRACT_VERSION};")), "the version named is the WIT's");
    }

    /// A deadline never falls before the timeout: the tick under way may end at once.
    #[test]
    fn deadlines_cover_the_whole_timeout() {
        use std::time::Duration;
        let tick = EPOCH_TICK.as_millis() as u64;
        assert_eq!(ticks(Duration::from_millis(10 * tick)), 11);
        assert_eq!(ticks(Duration::from_millis(tick + 1)), 3);
        assert_eq!(ticks(Duration::from_millis(1)), 2, "under a tick still gets a whole one");
    }

    /// The memory limit is tripped end to end by the `chaos` plugin's memory bomb; a Rust
    /// guest cannot grow its function table, so the table limit is pinned here.
    #[test]
    fn growth_past_the_limits_is_refused_and_remembered() {
        let mut limits = MemoryLimit { max: 32 << 20, exceeded: false };
        assert!(limits.memory_growing(0, 32 << 20, None).unwrap());
        assert!(!limits.exceeded);
        assert!(!limits.memory_growing(32 << 20, (32 << 20) + 65_536, None).unwrap());
        assert!(limits.exceeded, "remembered, so the trap that follows reads as out of memory");
        assert!(limits.table_growing(0, MAX_TABLE_ELEMENTS, None).unwrap());
        assert!(!limits.table_growing(MAX_TABLE_ELEMENTS, MAX_TABLE_ELEMENTS + 1, None).unwrap());
    }
}
