//! `config.toml`: parsed raw (unknown keys rejected), then validated into [`Config`], the
//! only form the rest of the program sees.
//!
//! Every error names the file, the key and the reason. Every key is optional; the
//! defaults are documented on the fields of the raw structs below and in the README.
//! Settings are read at startup; a change needs a restart.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use regex::Regex;
use serde::Deserialize;

use crate::engineio::EngineConfig;
use crate::plugin::{DEFAULT_MAX_MEMORY, DEFAULT_TIMEOUT, FailurePolicy, PluginSpec};
use crate::relay::{RelayMode, RoomPolicy};
use crate::site::{DemoTokens, Site};
use crate::socketio::SocketIoConfig;

/// A validated configuration.
#[derive(Debug, Clone)]
pub struct Config {
    /// Where to listen.
    pub listen: SocketAddr,
    /// The Socket.IO path, e.g. `/socket.io/`.
    pub path: String,
    /// Engine.IO settings.
    pub engine: EngineConfig,
    /// Socket.IO settings.
    pub socketio: SocketIoConfig,
    /// Static files and the demo token endpoint.
    pub site: Site,
    /// The plugins declared, by name.
    pub plugins: BTreeMap<String, Arc<PluginSpec>>,
    /// The namespaces served, in file order.
    pub namespaces: Vec<NamespaceConfig>,
}

/// How a namespace is named.
#[derive(Debug, Clone)]
pub enum NamespaceName {
    /// Exactly this name.
    Exact(String),
    /// Every name the pattern matches (a dynamic namespace).
    Pattern(Regex),
}

/// One `[[namespace]]` table, validated.
#[derive(Debug, Clone)]
pub struct NamespaceConfig {
    /// The namespace name or pattern.
    pub name: NamespaceName,
    /// What clients may do with rooms and events.
    pub policy: RoomPolicy,
    /// The plugin chain, in order (names of `[plugins.NAME]` tables).
    pub plugins: Vec<String>,
}

impl NamespaceName {
    /// The name, or the pattern's text: the key that identifies the namespace entry
    /// across reloads.
    pub fn key(&self) -> &str {
        match self {
            NamespaceName::Exact(name) => name,
            NamespaceName::Pattern(pattern) => pattern.as_str(),
        }
    }
}

/// `config.toml` could not be used.
#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    /// The file could not be read.
    #[error("{file}: cannot read: {source}")]
    Read {
        /// The file.
        file: PathBuf,
        /// The I/O error.
        source: std::io::Error,
    },
    /// The file is not valid TOML or has unknown keys or wrong types.
    #[error("{file}: {message}")]
    Parse {
        /// The file.
        file: PathBuf,
        /// The parser's message, with line, column and key.
        message: String,
    },
    /// A value is out of range or inconsistent.
    #[error("{file}: {key}: {reason}")]
    Invalid {
        /// The file.
        file: PathBuf,
        /// The offending key, dotted (`namespace[1].relay`).
        key: String,
        /// Why it was refused.
        reason: String,
    },
}

/// Longest accepted namespace name or room pattern, in bytes.
const MAX_NAME: usize = 256;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawConfig {
    #[serde(default)]
    server: RawServer,
    #[serde(default)]
    engine: RawEngine,
    #[serde(default)]
    socketio: RawSocketIo,
    #[serde(default)]
    demo_tokens: Option<RawDemoTokens>,
    #[serde(default)]
    plugins: BTreeMap<String, RawPlugin>,
    #[serde(default)]
    namespace: Vec<RawNamespace>,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawDemoTokens {
    /// Required.
    secret: String,
    /// Default `"roomd-demo"`.
    #[serde(default = "demo_issuer")]
    issuer: String,
    /// Default `"roomd-chat"`.
    #[serde(default = "demo_audience")]
    audience: String,
    /// Default 3600.
    #[serde(default = "demo_ttl")]
    ttl_s: u64,
}

fn demo_issuer() -> String {
    "roomd-demo".into()
}

fn demo_audience() -> String {
    "roomd-chat".into()
}

fn demo_ttl() -> u64 {
    3600
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawPlugin {
    /// Required; relative to the config file's folder.
    path: String,
    /// Default `"fail-closed"`.
    #[serde(default)]
    on_error: FailurePolicy,
    /// Default 100.
    timeout_ms: Option<u64>,
    /// Default 32.
    max_memory_mb: Option<u64>,
    /// Default: an empty table.
    #[serde(default)]
    config: toml::Table,
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawServer {
    /// Default `127.0.0.1:3000`.
    listen: String,
    /// Default `/socket.io/`.
    path: String,
    /// Default: none (no static files).
    static_dir: Option<String>,
}

impl Default for RawServer {
    fn default() -> Self {
        RawServer { listen: "127.0.0.1:3000".into(), path: "/socket.io/".into(), static_dir: None }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawEngine {
    /// Default 25000.
    ping_interval_ms: u64,
    /// Default 20000.
    ping_timeout_ms: u64,
    /// Default 10000.
    upgrade_timeout_ms: u64,
    /// Default 1000000.
    max_payload_bytes: usize,
    /// Default `["polling", "websocket"]`.
    transports: Vec<String>,
    /// Default `[]` (any origin).
    allowed_origins: Vec<String>,
    /// Default 1024.
    outbound_queue: usize,
}

impl Default for RawEngine {
    fn default() -> Self {
        let d = EngineConfig::default();
        RawEngine {
            ping_interval_ms: d.ping_interval.as_millis() as u64,
            ping_timeout_ms: d.ping_timeout.as_millis() as u64,
            upgrade_timeout_ms: d.upgrade_timeout.as_millis() as u64,
            max_payload_bytes: d.max_payload,
            transports: vec!["polling".into(), "websocket".into()],
            allowed_origins: Vec::new(),
            outbound_queue: d.outbound_queue,
        }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields, default)]
struct RawSocketIo {
    /// Default 45000.
    connect_timeout_ms: u64,
    /// Default 10.
    max_attachments: usize,
}

impl Default for RawSocketIo {
    fn default() -> Self {
        let d = SocketIoConfig::default();
        RawSocketIo { connect_timeout_ms: d.connect_timeout.as_millis() as u64, max_attachments: d.max_attachments }
    }
}

#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawNamespace {
    name: Option<String>,
    pattern: Option<String>,
    /// Default `"namespace"`.
    #[serde(default)]
    relay: RelayMode,
    /// Default `["*"]`.
    #[serde(default = "any_room")]
    join: Vec<String>,
    /// Default `["*"]`.
    #[serde(default = "any_room")]
    publish: Vec<String>,
    /// Default 64.
    #[serde(default = "default_max_rooms")]
    max_rooms: usize,
    /// Default `[]`.
    #[serde(default)]
    plugins: Vec<String>,
}

fn any_room() -> Vec<String> {
    vec!["*".into()]
}

fn default_max_rooms() -> usize {
    64
}

impl Config {
    /// Reads and validates `file`.
    pub fn load(file: &Path) -> Result<Config, ConfigError> {
        let text = std::fs::read_to_string(file).map_err(|source| ConfigError::Read { file: file.into(), source })?;
        Config::parse(&text, file)
    }

    /// Validates `text`; `file` only names the source in errors.
    pub fn parse(text: &str, file: &Path) -> Result<Config, ConfigError> {
        let raw: RawConfig =
            toml::from_str(text).map_err(|e| ConfigError::Parse { file: file.into(), message: e.to_string() })?;
        Validator { file }.config(raw)
    }
}

struct Validator<'a> {
    file: &'a Path,
}

impl Validator<'_> {
    fn invalid(&self, key: impl Into<String>, reason: impl Into<String>) -> ConfigError {
        ConfigError::Invalid { file: self.file.into(), key: key.into(), reason: reason.into() }
    }

    fn millis(&self, key: &str, value: u64) -> Result<Duration, ConfigError> {
        match value {
            0 => Err(self.invalid(key, "must be greater than 0")),
            v => Ok(Duration::from_millis(v)),
        }
    }

    fn config(&self, raw: RawConfig) -> Result<Config, ConfigError> {
        let listen = raw
            .server
            .listen
            .parse()
            .map_err(|_| self.invalid("server.listen", format!("{:?} is not an address like 127.0.0.1:3000", raw.server.listen)))?;
        if !raw.server.path.starts_with('/') {
            return Err(self.invalid("server.path", "must start with '/'"));
        }
        let e = raw.engine;
        let mut engine = EngineConfig {
            ping_interval: self.millis("engine.ping_interval_ms", e.ping_interval_ms)?,
            ping_timeout: self.millis("engine.ping_timeout_ms", e.ping_timeout_ms)?,
            upgrade_timeout: self.millis("engine.upgrade_timeout_ms", e.upgrade_timeout_ms)?,
            max_payload: e.max_payload_bytes,
            polling: false,
            websocket: false,
            allowed_origins: e.allowed_origins,
            outbound_queue: e.outbound_queue,
        };
        if engine.max_payload == 0 {
            return Err(self.invalid("engine.max_payload_bytes", "must be greater than 0"));
        }
        if engine.outbound_queue == 0 {
            return Err(self.invalid("engine.outbound_queue", "must be at least 1"));
        }
        for transport in &e.transports {
            match transport.as_str() {
                "polling" => engine.polling = true,
                "websocket" => engine.websocket = true,
                other => return Err(self.invalid("engine.transports", format!("unknown transport {other:?} (polling, websocket)"))),
            }
        }
        if !engine.polling && !engine.websocket {
            return Err(self.invalid("engine.transports", "at least one transport is required"));
        }
        let socketio = SocketIoConfig {
            connect_timeout: self.millis("socketio.connect_timeout_ms", raw.socketio.connect_timeout_ms)?,
            max_attachments: raw.socketio.max_attachments,
        };
        let base = self.file.parent().unwrap_or(Path::new("."));
        let demo_tokens = match raw.demo_tokens {
            None => None,
            Some(demo) if demo.secret.len() < 16 => {
                return Err(self.invalid("demo_tokens.secret", "must be at least 16 bytes"));
            }
            Some(demo) => Some(DemoTokens {
                secret: demo.secret,
                issuer: demo.issuer,
                audience: demo.audience,
                ttl: self.millis("demo_tokens.ttl_s", demo.ttl_s.saturating_mul(1000))?,
            }),
        };
        let site = Site { static_dir: raw.server.static_dir.as_ref().map(|dir| base.join(dir)), demo_tokens };
        let mut plugins = BTreeMap::new();
        for (name, plugin) in raw.plugins {
            let spec = self.plugin(&name, plugin)?;
            plugins.insert(name, Arc::new(spec));
        }
        let mut namespaces = Vec::new();
        let raw_namespaces = if raw.namespace.is_empty() {
            vec![RawNamespace {
                name: Some("/".into()),
                pattern: None,
                relay: RelayMode::default(),
                join: any_room(),
                publish: any_room(),
                max_rooms: default_max_rooms(),
                plugins: Vec::new(),
            }]
        } else {
            raw.namespace
        };
        for (i, ns) in raw_namespaces.into_iter().enumerate() {
            if let Some(unknown) = ns.plugins.iter().find(|p| !plugins.contains_key(*p)) {
                return Err(self.invalid(format!("namespace[{i}].plugins"), format!("no [plugins.{unknown}] table declares {unknown:?}")));
            }
            let validated = self.namespace(i, ns)?;
            if let NamespaceName::Exact(name) = &validated.name {
                let duplicate = namespaces.iter().any(|n: &NamespaceConfig| matches!(&n.name, NamespaceName::Exact(other) if other == name));
                if duplicate {
                    return Err(self.invalid(format!("namespace[{i}].name"), format!("{name:?} is declared twice")));
                }
            }
            namespaces.push(validated);
        }
        Ok(Config { listen, path: raw.server.path, engine, socketio, site, plugins, namespaces })
    }

    fn plugin(&self, name: &str, raw: RawPlugin) -> Result<PluginSpec, ConfigError> {
        let key = |field: &str| format!("plugins.{name}.{field}");
        if raw.path.is_empty() {
            return Err(self.invalid(key("path"), "must name a .wasm file"));
        }
        let base = self.file.parent().unwrap_or(Path::new("."));
        let timeout = match raw.timeout_ms {
            None => DEFAULT_TIMEOUT,
            Some(ms) => self.millis(&key("timeout_ms"), ms)?,
        };
        let max_memory = match raw.max_memory_mb {
            None => DEFAULT_MAX_MEMORY,
            Some(0) => return Err(self.invalid(key("max_memory_mb"), "must be greater than 0")),
            Some(mb) => usize::try_from(mb.saturating_mul(1024 * 1024)).unwrap_or(usize::MAX),
        };
        Ok(PluginSpec {
            name: Arc::from(name),
            path: base.join(&raw.path),
            config: serde_json::to_string(&raw.config).expect("a TOML table is valid JSON"),
            on_error: raw.on_error,
            timeout,
            max_memory,
        })
    }

    fn namespace(&self, i: usize, raw: RawNamespace) -> Result<NamespaceConfig, ConfigError> {
        let key = |field: &str| format!("namespace[{i}].{field}");
        let name = match (raw.name, raw.pattern) {
            (Some(name), None) => {
                if !name.starts_with('/') || name.len() > MAX_NAME || name.contains(',') {
                    return Err(self.invalid(key("name"), format!("{name:?} must start with '/', hold no ',' and be at most {MAX_NAME} bytes")));
                }
                NamespaceName::Exact(name)
            }
            (None, Some(pattern)) => NamespaceName::Pattern(
                Regex::new(&pattern).map_err(|e| self.invalid(key("pattern"), format!("not a valid regex: {e}")))?,
            ),
            _ => return Err(self.invalid(key("name"), "give exactly one of `name` or `pattern`")),
        };
        for (field, patterns) in [("join", &raw.join), ("publish", &raw.publish)] {
            if patterns.iter().any(|p| p.is_empty() || p.len() > MAX_NAME) {
                return Err(self.invalid(key(field), format!("room patterns must be 1 to {MAX_NAME} bytes")));
            }
        }
        Ok(NamespaceConfig {
            name,
            policy: RoomPolicy { relay: raw.relay, join: raw.join, publish: raw.publish, max_rooms: raw.max_rooms },
            plugins: raw.plugins,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Result<Config, ConfigError> {
        Config::parse(text, Path::new("config.toml"))
    }

    #[test]
    fn empty_file_gives_node_defaults_and_one_namespace() {
        let config = parse("").unwrap();
        assert_eq!(config.listen, "127.0.0.1:3000".parse().unwrap());
        assert_eq!(config.path, "/socket.io/");
        assert_eq!(config.engine.ping_interval, Duration::from_millis(25_000));
        assert_eq!(config.engine.max_payload, 1_000_000);
        assert!(config.engine.polling && config.engine.websocket);
        assert_eq!(config.namespaces.len(), 1);
        assert!(matches!(&config.namespaces[0].name, NamespaceName::Exact(n) if n == "/"));
        assert_eq!(config.namespaces[0].policy.relay, RelayMode::Namespace);
    }

    #[test]
    fn errors_name_file_key_and_reason() {
        let table = [
            ("[engine]\nping_interval_ms = 0", "config.toml: engine.ping_interval_ms: must be greater than 0"),
            ("[server]\nlisten = \"nowhere\"", "config.toml: server.listen: \"nowhere\" is not an address like 127.0.0.1:3000"),
            ("[engine]\ntransports = [\"carrier-pigeon\"]", "config.toml: engine.transports: unknown transport \"carrier-pigeon\" (polling, websocket)"),
            ("[engine]\ntransports = []", "config.toml: engine.transports: at least one transport is required"),
            ("[engine]\noutbound_queue = 0", "config.toml: engine.outbound_queue: must be at least 1"),
            ("[[namespace]]\nname = \"chat\"", "config.toml: namespace[0].name: \"chat\" must start with '/', hold no ',' and be at most 256 bytes"),
            ("[[namespace]]\nname = \"/a\"\npattern = \"^/b$\"", "config.toml: namespace[0].name: give exactly one of `name` or `pattern`"),
            ("[[namespace]]\nname = \"/a\"\n[[namespace]]\nname = \"/a\"", "config.toml: namespace[1].name: \"/a\" is declared twice"),
            ("[[namespace]]\nname = \"/a\"\njoin = [\"\"]", "config.toml: namespace[0].join: room patterns must be 1 to 256 bytes"),
        ];
        for (text, expected) in table {
            assert_eq!(parse(text).unwrap_err().to_string(), expected, "config {text:?}");
        }
    }

    #[test]
    fn unknown_keys_and_bad_values_are_parse_errors() {
        let err = parse("[engine]\nping_intervl_ms = 5").unwrap_err().to_string();
        assert!(err.starts_with("config.toml: ") && err.contains("unknown field `ping_intervl_ms`"), "{err}");
        let err = parse("[[namespace]]\nname = \"/\"\nrelay = \"everywhere\"").unwrap_err().to_string();
        assert!(err.contains("unknown variant `everywhere`"), "{err}");
        let err = parse("[[namespace]]\npattern = \"(\"").unwrap_err().to_string();
        assert!(err.starts_with("config.toml: namespace[0].pattern: not a valid regex"), "{err}");
    }

    #[test]
    fn plugins_are_declared_once_and_attached_by_name() {
        let config = parse(
            "[plugins.auth]\npath = \"plugins/auth.wasm\"\non_error = \"fail-open\"\ntimeout_ms = 5\nmax_memory_mb = 4\n\
             [plugins.auth.config]\nsecret = \"s\"\nleeway = 30\n\
             [[namespace]]\nname = \"/chat\"\nplugins = [\"auth\"]\n",
        )
        .unwrap();
        let auth = &config.plugins["auth"];
        assert_eq!(auth.path, Path::new("plugins/auth.wasm"));
        assert_eq!(auth.on_error, FailurePolicy::FailOpen);
        assert_eq!((auth.timeout, auth.max_memory), (Duration::from_millis(5), 4 * 1024 * 1024));
        assert_eq!(auth.config, r#"{"leeway":30,"secret":"s"}"#);
        assert_eq!(config.namespaces[0].plugins, vec!["auth"]);
        let err = parse("[[namespace]]\nname = \"/\"\nplugins = [\"ghost\"]").unwrap_err().to_string();
        assert_eq!(err, "config.toml: namespace[0].plugins: no [plugins.ghost] table declares \"ghost\"");
        let err = parse("[plugins.x]\npath = \"x.wasm\"\non_error = \"shrug\"").unwrap_err().to_string();
        assert!(err.contains("unknown variant `shrug`"), "{err}");
    }

    #[test]
    fn namespaces_keep_their_policies() {
        let config = parse(
            "[[namespace]]\nname = \"/chat\"\nrelay = \"rooms\"\njoin = [\"room-*\"]\npublish = []\nmax_rooms = 2\n\
             [[namespace]]\npattern = \"^/team-[a-z]+$\"\nrelay = \"none\"",
        )
        .unwrap();
        let chat = &config.namespaces[0].policy;
        assert_eq!((chat.relay, chat.join.as_slice(), chat.publish.len(), chat.max_rooms), (RelayMode::Rooms, &["room-*".to_string()][..], 0, 2));
        assert!(matches!(&config.namespaces[1].name, NamespaceName::Pattern(p) if p.is_match("/team-red")));
    }
}
