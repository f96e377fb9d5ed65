//! Process-wide counters, rendered in the Prometheus text format at `/metrics`.
//!
//! Plain relaxed atomics: every counter is independent and read only for reporting, so no
//! ordering between them is promised or needed.

use std::fmt::Write as _;
use std::sync::atomic::{AtomicI64, AtomicU64, Ordering};

/// A monotonically increasing count.
#[derive(Debug, Default)]
pub struct Counter(AtomicU64);

impl Counter {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Adds `n`.
    pub fn add(&self, n: u64) {
        self.0.fetch_add(n, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> u64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// A value that goes up and down.
#[derive(Debug, Default)]
pub struct Gauge(AtomicI64);

impl Gauge {
    /// Adds one.
    pub fn inc(&self) {
        self.0.fetch_add(1, Ordering::Relaxed);
    }

    /// Subtracts one.
    pub fn dec(&self) {
        self.0.fetch_sub(1, Ordering::Relaxed);
    }

    /// The current value.
    pub fn get(&self) -> i64 {
        self.0.load(Ordering::Relaxed)
    }
}

/// Every counter roomd keeps.
#[derive(Debug, Default)]
pub struct Metrics {
    /// Failed plugin calls by plugin name. A std mutex: taken only when a plugin fails
    /// and when metrics are rendered.
    plugin_failures: std::sync::Mutex<std::collections::BTreeMap<String, u64>>,
    /// Engine.IO sessions currently open.
    pub sessions: Gauge,
    /// Engine.IO sessions opened since start.
    pub sessions_opened: Counter,
    /// Socket.IO sockets currently connected, over all namespaces.
    pub sockets: Gauge,
    /// Sessions closed because their outbound queue was full.
    pub slow_consumers: Counter,
    /// Sessions closed because the client broke the protocol.
    pub protocol_errors: Counter,
    /// Socket.IO packets received from clients.
    pub packets_in: Counter,
    /// Broadcasts sent (each encoded once, however many recipients).
    pub broadcasts: Counter,
    /// Packets queued to clients (a broadcast counts once per recipient).
    pub deliveries: Counter,
    /// CONNECT requests refused (unknown namespace or refused by the namespace).
    pub connects_refused: Counter,
}

/// The process's counters.
pub static METRICS: std::sync::LazyLock<Metrics> = std::sync::LazyLock::new(Metrics::default);

impl Metrics {
    /// Counts a failed call of plugin `name`.
    pub fn plugin_failed(&self, name: &str) {
        *self.plugin_failures.lock().unwrap_or_else(|e| e.into_inner()).entry(name.to_owned()).or_default() += 1;
    }

    /// Failed calls of plugin `name` so far.
    pub fn plugin_failures(&self, name: &str) -> u64 {
        self.plugin_failures.lock().unwrap_or_else(|e| e.into_inner()).get(name).copied().unwrap_or(0)
    }

    /// The Prometheus text exposition of every counter.
    pub fn render(&self) -> String {
        let rows: [(&str, &str, &str, String); 9] = [
            ("roomd_sessions", "gauge", "Engine.IO sessions open", self.sessions.get().to_string()),
            ("roomd_sessions_opened_total", "counter", "Engine.IO sessions opened", self.sessions_opened.get().to_string()),
            ("roomd_sockets", "gauge", "Socket.IO sockets connected", self.sockets.get().to_string()),
            ("roomd_slow_consumers_total", "counter", "Sessions closed for a full outbound queue", self.slow_consumers.get().to_string()),
            ("roomd_protocol_errors_total", "counter", "Sessions closed for breaking the protocol", self.protocol_errors.get().to_string()),
            ("roomd_packets_in_total", "counter", "Socket.IO packets received", self.packets_in.get().to_string()),
            ("roomd_broadcasts_total", "counter", "Broadcasts encoded", self.broadcasts.get().to_string()),
            ("roomd_deliveries_total", "counter", "Packets queued to clients", self.deliveries.get().to_string()),
            ("roomd_connects_refused_total", "counter", "Namespace CONNECTs refused", self.connects_refused.get().to_string()),
        ];
        let mut out = String::new();
        for (name, kind, help, value) in rows {
            let _ = writeln!(out, "# HELP {name} {help}\n# TYPE {name} {kind}\n{name} {value}");
        }
        let _ = writeln!(out, "# HELP roomd_plugin_failures_total Failed plugin calls (traps, timeouts, out of memory, bad output)\n# TYPE roomd_plugin_failures_total counter");
        for (plugin, count) in self.plugin_failures.lock().unwrap_or_else(|e| e.into_inner()).iter() {
            let _ = writeln!(out, "roomd_plugin_failures_total{{plugin=\"{plugin}\"}} {count}");
        }
        out
    }
}
