//! roomd's load generator. It speaks Engine.IO v4 / Socket.IO v5 over WebSocket itself (or
//! plain WebSocket frames, for the raw ceiling), over a WebSocket client of its own
//! (`ws.rs`), so the client side stays cheap: one single-threaded runtime, no allocation,
//! copy or JSON parsing per received message, and its CPU share during the measured window
//! reported beside every figure.
//!
//! Every message carries its sequence number and send time (`"S,T,padding"`); receivers
//! count deliveries per message and record latency. Publishers keep a bounded window of
//! messages in flight (sent but not yet delivered to every recipient), so a run measures
//! sustained throughput, not queue overflow. One JSON line per run goes to stdout.

mod client;
mod scenario;
mod ws;

use clap::{Parser, ValueEnum};
use serde::Serialize;

/// How the load generator talks to the server.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Protocol {
    /// Socket.IO v5 over Engine.IO v4 WebSocket, rooms via `join`, sends via `publish`.
    Sio,
    /// Plain WebSocket: `join:ROOM`, then every frame is broadcast to the room.
    Raw,
}

/// Which scenario to run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub(crate) enum Scenario {
    /// One room, many subscribers, one publisher.
    Fanout,
    /// Many rooms, everyone sending.
    Chat,
    /// Connections that do nothing: server memory per connection.
    Idle,
    /// Connections opened as fast as possible.
    Storm,
}

/// Command line.
#[derive(Debug, Clone, Parser)]
pub(crate) struct Args {
    /// Server address, e.g. 127.0.0.1:3000.
    #[arg(long)]
    pub(crate) addr: String,
    /// Protocol.
    #[arg(long, value_enum, default_value = "sio")]
    pub(crate) protocol: Protocol,
    /// Scenario.
    #[arg(long, value_enum)]
    pub(crate) scenario: Scenario,
    /// Name of the server under test (goes into the result).
    #[arg(long)]
    pub(crate) server: String,
    /// Label of the scenario in the result (defaults to the scenario's name).
    #[arg(long)]
    pub(crate) label: Option<String>,
    /// Socket.IO namespace.
    #[arg(long, default_value = "/")]
    pub(crate) nsp: String,
    /// Fan-out: subscribers; idle and storm: connections.
    #[arg(long, default_value_t = 1000)]
    pub(crate) clients: usize,
    /// Fan-out: messages published; chat: messages per member.
    #[arg(long, default_value_t = 2000)]
    pub(crate) messages: u64,
    /// Deliveries in flight allowed (sent × recipients − delivered).
    #[arg(long, default_value_t = 200_000)]
    pub(crate) window: u64,
    /// Chat: rooms.
    #[arg(long, default_value_t = 100)]
    pub(crate) rooms: usize,
    /// Chat: members per room.
    #[arg(long, default_value_t = 20)]
    pub(crate) members: usize,
    /// Bytes of padding per message.
    #[arg(long, default_value_t = 64)]
    pub(crate) padding: usize,
    /// Socket.IO auth payload (JSON) sent with CONNECT, e.g. `{"token":"..."}`.
    #[arg(long)]
    pub(crate) auth: Option<String>,
    /// The server's pid, to read its memory.
    #[arg(long)]
    pub(crate) server_pid: Option<u32>,
}

/// One result row, as `target/bench/results.json` holds them.
#[derive(Debug, Serialize)]
pub(crate) struct Outcome {
    scenario: String,
    server: String,
    deliveries_per_s: Option<f64>,
    p50_ms: Option<f64>,
    p99_ms: Option<f64>,
    delivered: Option<u64>,
    expected: Option<u64>,
    rss_kb_per_conn: Option<f64>,
    server_rss_kb: Option<u64>,
    connects_per_s: Option<f64>,
    loadgen_cpu_pct: Option<f64>,
    /// The server's share of its core while deliveries were measured: near 100, it was
    /// the bottleneck, and its throughput is what it can do.
    server_cpu_pct: Option<f64>,
}

/// Resident memory of `pid` in KiB.
pub(crate) fn rss_kb(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status.lines().find_map(|l| l.strip_prefix("VmRSS:")).and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
}

/// CPU seconds this process has used so far.
pub(crate) fn cpu_seconds() -> f64 {
    process_cpu_seconds("self").unwrap_or(0.0)
}

/// CPU seconds the process `pid` has used so far, all its threads, those that have
/// ended included; `None` if it cannot be read.
pub(crate) fn server_cpu_seconds(pid: u32) -> Option<f64> {
    process_cpu_seconds(&pid.to_string())
}

/// User and system time from `/proc/<process>/stat`, in clock ticks of 10 ms.
fn process_cpu_seconds(process: &str) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{process}/stat")).ok()?;
    let fields: Vec<&str> = stat.rsplit(')').next()?.split_whitespace().collect();
    let ticks = |i: usize| fields.get(i).and_then(|v| v.parse::<f64>().ok());
    Some((ticks(11)? + ticks(12)?) / 100.0)
}

/// This process's share of one core, in percent to one decimal, since it had used
/// `since` CPU seconds, `secs` seconds ago.
pub(crate) fn cpu_pct(since: f64, secs: f64) -> f64 {
    ((cpu_seconds() - since) / secs * 1000.0).round() / 10.0
}

fn main() {
    let args = Args::parse();
    let runtime = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("runtime");
    let cpu_before = cpu_seconds();
    let started = std::time::Instant::now();
    let mut outcome = runtime.block_on(scenario::run(&args));
    let wall = started.elapsed().as_secs_f64();
    // Throughput scenarios report the share during the measured window themselves.
    if outcome.loadgen_cpu_pct.is_none() {
        outcome.loadgen_cpu_pct = Some(cpu_pct(cpu_before, wall));
    }
    println!("{}", serde_json::to_string(&outcome).expect("serializable"));
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A process's CPU time counts all its threads, one that has ended too.
    #[test]
    fn server_cpu_counts_every_thread() {
        let before = server_cpu_seconds(std::process::id()).expect("own /proc stat readable");
        std::thread::spawn(|| {
            let started = std::time::Instant::now();
            while started.elapsed() < std::time::Duration::from_millis(50) {
                std::hint::black_box(0u64);
            }
        })
        .join()
        .unwrap();
        let after = server_cpu_seconds(std::process::id()).unwrap();
        assert!(after - before >= 0.04, "{before} -> {after}");
        assert_eq!(server_cpu_seconds(u32::MAX), None, "no such process");
    }
}
