//! The standalone server assembled from a [`Config`]: plugins compiled, every
//! namespace's [`Chain`] built (plugins, then the relay), and all of it kept current when
//! the config or a plugin file changes.
//!
//! A reload is a swap of whole validated parts. Everything new is prepared first — the
//! config parsed and validated, every plugin compiled, every changed instance created and
//! initialised — and only then committed: changed plugin slots take over their
//! predecessors' state, chains are replaced, namespaces added or removed. Any failure
//! before the commit leaves the running version untouched and is reported with the file
//! and the reason.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Instant;

use crate::config::{Config, NamespaceConfig, NamespaceName};
use crate::middleware::{Chain, Links};
use crate::plugin::kv::{KeyValue, MemoryKv};
use crate::plugin::{self, Code, PluginError, PluginSlot, PluginSpec};
use crate::relay::Relay;
use crate::socketio::{NamespaceHandler, SocketIo};

/// The server could not be built or reloaded.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// A plugin could not be compiled, instantiated or initialised.
    #[error("plugin {plugin}: {error}")]
    Plugin {
        /// The plugin's name in config.
        plugin: String,
        /// What went wrong (names the file when it is about the file).
        error: PluginError,
    },
}

/// What a reload changed.
#[derive(Debug, Default, PartialEq, Eq)]
pub struct ReloadReport {
    /// Plugin slots whose code or config was swapped, as `plugin@namespace`.
    pub swapped: Vec<String>,
    /// Namespaces whose chain or policy changed.
    pub rechained: Vec<String>,
    /// Namespaces added.
    pub added: Vec<String>,
    /// Namespaces removed.
    pub removed: Vec<String>,
    /// Settings that changed but only take effect after a restart.
    pub needs_restart: Vec<&'static str>,
}

impl ReloadReport {
    /// Whether the reload changed anything.
    pub fn is_empty(&self) -> bool {
        self.swapped.is_empty() && self.rechained.is_empty() && self.added.is_empty() && self.removed.is_empty()
    }
}

/// Identifies a plugin slot: (plugin name, namespace key).
type SlotKey = (String, String);

struct Slot {
    slot: Arc<PluginSlot>,
    spec: Arc<PluginSpec>,
    hash: u64,
}

struct State {
    config: Config,
    chains: HashMap<String, Arc<Chain>>,
    slots: HashMap<SlotKey, Slot>,
}

/// The running server's parts.
pub struct App {
    io: SocketIo,
    kv: Arc<dyn KeyValue>,
    /// Reloads are serialized. A std mutex: reloads run on a blocking thread, and the
    /// hot path never takes this lock.
    state: Mutex<State>,
}

/// A chain built but not yet committed.
struct Planned {
    ns: NamespaceConfig,
    plugins: Vec<Arc<PluginSlot>>,
}

impl App {
    /// Compiles the plugins and builds the server `config` describes.
    pub fn build(config: Config) -> Result<App, AppError> {
        let kv: Arc<dyn KeyValue> = Arc::new(MemoryKv::default());
        let codes = compile_all(&config)?;
        let mut slots = HashMap::new();
        let mut chains = HashMap::new();
        let mut builder = SocketIo::builder().engine(config.engine.clone()).config(config.socketio.clone());
        for ns in &config.namespaces {
            let mut plugins = Vec::new();
            for name in &ns.plugins {
                let key = (name.clone(), ns.name.key().to_owned());
                let slot = match slots.get(&key) {
                    Some(Slot { slot, .. }) => Arc::clone(slot),
                    None => {
                        let spec = config.plugins[name].clone();
                        let code = codes[name].clone();
                        let slot = new_slot(&spec, &code, &kv, ns.name.key())?;
                        slots.insert(key, Slot { slot: slot.clone(), spec, hash: code.hash });
                        slot
                    }
                };
                plugins.push(slot);
            }
            let chain = Arc::new(Chain::new(Links { plugins, relay: Relay::new(ns.policy.clone()) }));
            chains.insert(ns.name.key().to_owned(), chain.clone());
            let handler: Arc<dyn NamespaceHandler> = chain;
            builder = match &ns.name {
                NamespaceName::Exact(name) => builder.namespace_arc(name.clone(), handler),
                NamespaceName::Pattern(pattern) => builder.dynamic_namespace_arc(pattern.clone(), handler),
            };
        }
        let io = builder.build();
        Ok(App { io, kv, state: Mutex::new(State { config, chains, slots }) })
    }

    /// The slot running `plugin` for the namespace `namespace` (a name or pattern as
    /// configured), if there is one.
    pub fn slot(&self, plugin: &str, namespace: &str) -> Option<Arc<PluginSlot>> {
        let state = self.state.lock().unwrap_or_else(|e| e.into_inner());
        state.slots.get(&(plugin.to_owned(), namespace.to_owned())).map(|s| s.slot.clone())
    }

    /// The Socket.IO server.
    pub fn io(&self) -> &SocketIo {
        &self.io
    }

    /// The config now in force.
    pub fn config(&self) -> Config {
        self.lock().config.clone()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, State> {
        self.state.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Brings the server in line with `config` (which may be the current one, to pick up
    /// changed plugin files). Blocking: compiles and instantiates. On error nothing
    /// changed.
    pub fn reload(&self, config: Config) -> Result<ReloadReport, AppError> {
        let started = Instant::now();
        let mut state = self.lock();
        let mut report = ReloadReport { needs_restart: restart_only_changes(&state.config, &config), ..Default::default() };
        let codes = compile_all(&config)?;

        // Prepare: every slot the new config needs, created or re-created, off to the side.
        let mut next_slots: HashMap<SlotKey, Slot> = HashMap::new();
        let mut swaps: Vec<(Arc<PluginSlot>, Arc<PluginSpec>, Code, String)> = Vec::new();
        let mut planned = Vec::new();
        for ns in &config.namespaces {
            let mut plugins = Vec::new();
            for name in &ns.plugins {
                let key = (name.clone(), ns.name.key().to_owned());
                let spec = config.plugins[name].clone();
                let code = codes[name].clone();
                let slot = if let Some(slot) = next_slots.get(&key) {
                    slot.slot.clone()
                } else {
                    let slot = match state.slots.get(&key) {
                        Some(old) if old.spec == spec && old.hash == code.hash => old.slot.clone(),
                        Some(old) => {
                            swaps.push((old.slot.clone(), spec.clone(), code.clone(), format!("{name}@{}", key.1)));
                            old.slot.clone()
                        }
                        None => new_slot(&spec, &code, &self.kv, &key.1)?,
                    };
                    next_slots.insert(key, Slot { slot: slot.clone(), spec, hash: code.hash });
                    slot
                };
                plugins.push(slot);
            }
            planned.push(Planned { ns: ns.clone(), plugins });
        }
        // Validate the swaps before committing any: a new instance must init with its config.
        let mut prepared = Vec::new();
        for (slot, spec, code, label) in swaps {
            let next = slot.prepare(spec.clone(), code).map_err(|error| AppError::Plugin { plugin: spec.name.to_string(), error })?;
            prepared.push((slot, next, label));
        }

        // Commit.
        for (slot, next, label) in prepared {
            match slot.install(next) {
                Ok(()) => report.swapped.push(label),
                Err(error) => tracing::error!(slot = %label, %error, "swap failed; the old version stays live"),
            }
        }
        let old_namespaces: BTreeMap<String, NamespaceConfig> =
            state.config.namespaces.iter().map(|ns| (ns.name.key().to_owned(), ns.clone())).collect();
        for Planned { ns, plugins } in planned {
            let key = ns.name.key().to_owned();
            let links = Links { plugins, relay: Relay::new(ns.policy.clone()) };
            match state.chains.get(&key) {
                Some(chain) => {
                    let old = &old_namespaces[&key];
                    if old.plugins != ns.plugins || old.policy != ns.policy {
                        report.rechained.push(key.clone());
                    }
                    chain.replace(links);
                }
                None => {
                    let chain = Arc::new(Chain::new(links));
                    let handler: Arc<dyn NamespaceHandler> = chain.clone();
                    match &ns.name {
                        NamespaceName::Exact(name) => self.io.add_namespace(name, handler),
                        NamespaceName::Pattern(pattern) => self.io.add_dynamic_namespace(pattern.clone(), handler),
                    }
                    state.chains.insert(key.clone(), chain);
                    report.added.push(key);
                }
            }
        }
        let kept: Vec<String> = config.namespaces.iter().map(|ns| ns.name.key().to_owned()).collect();
        let gone: Vec<String> = state.chains.keys().filter(|key| !kept.contains(key)).cloned().collect();
        for key in gone {
            self.io.remove_namespace(&key);
            state.chains.remove(&key);
            report.removed.push(key);
        }
        state.slots = next_slots;
        state.config = config;
        if !report.is_empty() {
            tracing::info!(elapsed_ms = started.elapsed().as_secs_f64() * 1e3, ?report, "reloaded");
        }
        for setting in &report.needs_restart {
            tracing::warn!(setting, "changed in config; takes effect after a restart");
        }
        Ok(report)
    }
}

fn new_slot(spec: &Arc<PluginSpec>, code: &Code, kv: &Arc<dyn KeyValue>, namespace: &str) -> Result<Arc<PluginSlot>, AppError> {
    PluginSlot::new(spec.clone(), code.clone(), kv.clone(), namespace)
        .map(Arc::new)
        .map_err(|error| AppError::Plugin { plugin: spec.name.to_string(), error })
}

/// Compiles every declared plugin (unchanged files come from the compile cache).
fn compile_all(config: &Config) -> Result<HashMap<String, Code>, AppError> {
    config
        .plugins
        .iter()
        .map(|(name, spec)| {
            plugin::compile(spec).map(|code| (name.clone(), code)).map_err(|error| AppError::Plugin { plugin: name.clone(), error })
        })
        .collect()
}

/// Settings a reload cannot apply to a running server.
fn restart_only_changes(old: &Config, new: &Config) -> Vec<&'static str> {
    let mut changed = Vec::new();
    if old.listen != new.listen {
        changed.push("server.listen");
    }
    if old.path != new.path {
        changed.push("server.path");
    }
    if format!("{:?}", old.engine) != format!("{:?}", new.engine) {
        changed.push("engine");
    }
    if format!("{:?}", old.socketio) != format!("{:?}", new.socketio) {
        changed.push("socketio");
    }
    changed
}
