//! The scenarios. All clients live on one single-threaded runtime, so shared counters are
//! plain `Cell`s behind an `Rc`.

use std::cell::{Cell, RefCell};
use std::rc::Rc;
use std::time::{Duration, Instant};

use hdrhistogram::Histogram;
use tokio::sync::Notify;
use tokio::task::LocalSet;

use crate::client;
use crate::ws::{Conn, Reader, Writer};
use crate::{Args, Outcome, Scenario, rss_kb};

/// A run gives up when nothing arrives for this long (lost deliveries are then reported).
const STALL: Duration = Duration::from_secs(10);

/// Counters shared by every client of a run.
struct Shared {
    /// When the first message was sent, and the CPU seconds this process and the server
    /// had used then.
    start: Cell<Option<Instant>>,
    cpu_at_start: Cell<f64>,
    server_cpu_at_start: Cell<Option<f64>>,
    /// The server's pid, if known, to read its CPU time.
    server_pid: Option<u32>,
    last_delivery: Cell<Option<Instant>>,
    /// Deliveries owed: messages sent × their recipients.
    owed: Cell<u64>,
    delivered: Cell<u64>,
    /// Deliveries seen out of order by a recipient (per sender).
    reordered: Cell<u64>,
    /// Text frames received, deliveries or not (to see the server go quiet).
    frames: Cell<u64>,
    /// Write halves kept open until the run ends: dropping one would end the connection
    /// while it still has deliveries to receive.
    writers: RefCell<Vec<Writer>>,
    progress: Notify,
    latency_us: RefCell<Histogram<u64>>,
    epoch: Instant,
}

impl Shared {
    fn new(server_pid: Option<u32>) -> Rc<Shared> {
        Rc::new(Shared {
            start: Cell::new(None),
            cpu_at_start: Cell::new(0.0),
            server_cpu_at_start: Cell::new(None),
            server_pid,
            last_delivery: Cell::new(None),
            owed: Cell::new(0),
            delivered: Cell::new(0),
            reordered: Cell::new(0),
            frames: Cell::new(0),
            writers: RefCell::new(Vec::new()),
            progress: Notify::new(),
            latency_us: RefCell::new(Histogram::new_with_bounds(1, 120_000_000, 3).expect("histogram bounds")),
            epoch: Instant::now(),
        })
    }

    fn keep(&self, writer: Writer) {
        self.writers.borrow_mut().push(writer);
    }

    /// Marks the start of the measured window: the first message sent.
    fn mark_start(&self) {
        if self.start.get().is_none() {
            self.start.set(Some(Instant::now()));
            self.cpu_at_start.set(crate::cpu_seconds());
            self.server_cpu_at_start.set(self.server_pid.and_then(crate::server_cpu_seconds));
        }
    }

    fn now_us(&self) -> u64 {
        self.epoch.elapsed().as_micros() as u64
    }

    /// Waits until `more` further deliveries fit in the window.
    async fn window(&self, window: u64, more: u64) -> bool {
        while self.owed.get() + more - self.delivered.get() > window {
            if tokio::time::timeout(STALL, self.progress.notified()).await.is_err() {
                return false;
            }
        }
        true
    }

    fn outcome(&self, args: &Args, label: &str) -> Outcome {
        let elapsed = match (self.start.get(), self.last_delivery.get()) {
            (Some(start), Some(end)) => end.duration_since(start).as_secs_f64(),
            _ => 0.0,
        };
        let hist = self.latency_us.borrow();
        let ms = |q: f64| (!hist.is_empty()).then(|| hist.value_at_quantile(q) as f64 / 1000.0);
        if self.reordered.get() > 0 {
            eprintln!("{label}: {} deliveries arrived out of order", self.reordered.get());
        }
        Outcome {
            scenario: label.to_owned(),
            server: args.server.clone(),
            deliveries_per_s: (elapsed > 0.0).then(|| (self.delivered.get() as f64 / elapsed).round()),
            p50_ms: ms(0.5),
            p99_ms: ms(0.99),
            delivered: Some(self.delivered.get()),
            expected: Some(self.owed.get()),
            rss_kb_per_conn: None,
            server_rss_kb: args.server_pid.and_then(rss_kb),
            connects_per_s: None,
            // The generator's share of its core while deliveries were measured.
            loadgen_cpu_pct: (elapsed > 0.0).then(|| crate::cpu_pct(self.cpu_at_start.get(), elapsed)),
            // The server's, over the same window as the rate: its CPU time per delivery
            // is then this share over the rate.
            server_cpu_pct: (elapsed > 0.0).then(|| self.server_cpu_pct(elapsed)).flatten(),
        }
    }

    fn server_cpu_pct(&self, elapsed: f64) -> Option<f64> {
        let used = crate::server_cpu_seconds(self.server_pid?)? - self.server_cpu_at_start.get()?;
        Some((used / elapsed * 1000.0).round() / 10.0)
    }
}

/// `len` bytes of ordinary text (a profanity filter in the chain has real words to read).
fn padding(len: usize) -> String {
    "lorem ipsum dolor sit amet consectetur adipiscing elit ".chars().cycle().take(len).collect()
}

/// Reads deliveries until `expected` have arrived, recording latency and counting
/// deliveries that arrive out of order. A run that stalls is ended by [`finish`], not
/// here. Pings go unanswered: the benchmark's servers ping every 60 s, far longer than
/// any run.
async fn receive(mut reader: Reader, args: Rc<Args>, shared: Rc<Shared>, expected: u64, recipients: u64) {
    let mut got = 0;
    let mut last_seq: Vec<u64> = Vec::new();
    while got < expected {
        let Ok(Some(text)) = reader.next().await else { return };
        shared.frames.set(shared.frames.get() + 1);
        let Some((seq, t_us)) = client::parse_delivery(args.protocol, text) else { continue };
        got += 1;
        // Messages from one sender carry increasing numbers; the sender is seq's high bits.
        let sender = (seq >> 32) as usize;
        if last_seq.len() <= sender {
            last_seq.resize(sender + 1, 0);
        }
        if seq & 0xffff_ffff < last_seq[sender] & 0xffff_ffff {
            shared.reordered.set(shared.reordered.get() + 1);
        }
        last_seq[sender] = seq;
        let now = Instant::now();
        let now_us = now.duration_since(shared.epoch).as_micros() as u64;
        let _ = shared.latency_us.borrow_mut().record(now_us.saturating_sub(t_us).max(1));
        let delivered = shared.delivered.get() + 1;
        shared.delivered.set(delivered);
        shared.last_delivery.set(Some(now));
        // One message's worth of room in the window wakes one waiting sender, and so does
        // a window that has drained.
        if delivered.is_multiple_of(recipients) || delivered >= shared.owed.get() {
            shared.progress.notify_one();
        }
    }
}

/// Resolves once `count` has not moved for `quiet`, looking every `tick`.
async fn quiet_for(count: impl Fn() -> u64, quiet: Duration, tick: Duration) {
    let mut seen = count();
    let mut still = Duration::ZERO;
    while still < quiet {
        tokio::time::sleep(tick).await;
        let now = count();
        still = if now == seen { still + tick } else { Duration::ZERO };
        seen = now;
    }
}

/// Waits until the server has gone quiet: what joining set off (a presence plugin tells a
/// room about every arrival) is delivered before the measured run starts, so the run
/// measures steady fan-out rather than the tail of the setup. Gives up after [`STALL`].
async fn settle(shared: &Shared) {
    let quiet = Duration::from_millis(200);
    let _ = tokio::time::timeout(STALL, quiet_for(|| shared.frames.get(), quiet, quiet)).await;
}

/// Waits for `tasks`, or until the run stalls.
async fn finish(tasks: Vec<tokio::task::JoinHandle<()>>, shared: &Rc<Shared>) {
    let all = async {
        for task in tasks {
            let _ = task.await;
        }
    };
    tokio::select! {
        _ = all => {}
        // A timer per delivery would cost more than the rest of the generator's work.
        _ = quiet_for(|| shared.delivered.get(), STALL, Duration::from_millis(250)) => {
            eprintln!("run stalled: no delivery for {STALL:?}")
        }
    }
}

/// Sends `count` messages to `room`, each owed to `recipients` clients, within the window.
async fn publish(conn: Conn, args: Rc<Args>, shared: Rc<Shared>, sender: u64, room: String, count: u64, recipients: u64) {
    let Conn { mut reader, mut writer } = conn;
    // Whatever the server sends the publisher is read and dropped.
    tokio::task::spawn_local(async move { while let Ok(Some(_)) = reader.next().await {} });
    let padding = padding(args.padding);
    shared.mark_start();
    let mut unflushed = 0;
    for n in 0..count {
        if shared.owed.get() + recipients - shared.delivered.get() > args.window {
            if unflushed > 0 {
                let _ = writer.flush().await;
                unflushed = 0;
            }
            if !shared.window(args.window, recipients).await {
                return;
            }
        }
        writer.feed(&client::publish_frame(&args, &room, (sender << 32) | n, shared.now_us(), &padding));
        shared.owed.set(shared.owed.get() + recipients);
        unflushed += 1;
        if unflushed == 64 {
            let _ = writer.flush().await;
            unflushed = 0;
            tokio::task::yield_now().await;
        }
    }
    let _ = writer.flush().await;
    shared.keep(writer);
}

/// A connection that has joined `room`.
async fn connect_joined(args: &Args, room: &str) -> Conn {
    let mut conn = client::connect(args).await.unwrap_or_else(|e| panic!("connect: {e}"));
    client::join(&mut conn, args, room).await.unwrap_or_else(|e| panic!("join {room}: {e}"));
    conn
}

async fn fanout(args: Rc<Args>) -> Outcome {
    let shared = Shared::new(args.server_pid);
    let mut receivers = Vec::new();
    let recipients = args.clients as u64;
    for _ in 0..args.clients {
        let Conn { reader, writer } = connect_joined(&args, "fanout").await;
        shared.keep(writer);
        let (args, shared) = (args.clone(), shared.clone());
        receivers.push(tokio::task::spawn_local(async move {
            receive(reader, args.clone(), shared, args.messages, recipients).await
        }));
    }
    // The publisher is in the room too (the raw ceiling only forwards within a room); every
    // server leaves the sender out of its own broadcast.
    let publisher = connect_joined(&args, "fanout").await;
    settle(&shared).await;
    tokio::task::spawn_local(publish(publisher, args.clone(), shared.clone(), 0, "fanout".into(), args.messages, recipients));
    finish(receivers, &shared).await;
    let label = args.label.clone().unwrap_or_else(|| format!("fanout-{}", args.clients));
    shared.outcome(&args, &label)
}

async fn chat(args: Rc<Args>) -> Outcome {
    let shared = Shared::new(args.server_pid);
    let recipients = args.members as u64 - 1;
    let mut members = Vec::new();
    for room in 0..args.rooms {
        for _ in 0..args.members {
            let name = format!("chat-{room}");
            members.push((connect_joined(&args, &name).await, name));
        }
    }
    // Every member reads on a task of its own from the start; writing starts once the
    // joins have settled.
    let mut tasks = Vec::new();
    let mut writers = Vec::new();
    for (Conn { reader, writer }, room) in members {
        let (args, shared) = (args.clone(), shared.clone());
        tasks.push(tokio::task::spawn_local(async move {
            receive(reader, args.clone(), shared, args.messages * recipients, recipients).await
        }));
        writers.push((writer, room));
    }
    settle(&shared).await;
    for (sender, (mut writer, room)) in writers.into_iter().enumerate() {
        let (args, shared) = (args.clone(), shared.clone());
        tasks.push(tokio::task::spawn_local(async move {
            let padding = padding(args.padding);
            for n in 0..args.messages {
                if !shared.window(args.window, recipients).await {
                    return;
                }
                shared.mark_start();
                let frame = client::publish_frame(&args, &room, ((sender as u64) << 32) | n, shared.now_us(), &padding);
                if writer.send(&frame).await.is_err() {
                    return;
                }
                shared.owed.set(shared.owed.get() + recipients);
            }
            shared.keep(writer);
        }));
    }
    finish(tasks, &shared).await;
    let label = args.label.clone().unwrap_or_else(|| format!("chat-{}x{}", args.rooms, args.members));
    shared.outcome(&args, &label)
}

async fn idle(args: Rc<Args>) -> Outcome {
    let pid = args.server_pid.expect("--server-pid is needed to measure memory");
    tokio::time::sleep(Duration::from_millis(300)).await;
    let before = rss_kb(pid).unwrap_or(0);
    let mut open = Vec::with_capacity(args.clients);
    for chunk in (0..args.clients).collect::<Vec<_>>().chunks(200) {
        let batch: Vec<_> = chunk.iter().map(|_| client::connect(&args)).collect();
        for ws in futures_util::future::join_all(batch).await {
            open.push(ws.expect("idle client connects"));
        }
    }
    tokio::time::sleep(Duration::from_secs(2)).await;
    let after = rss_kb(pid).unwrap_or(0);
    let outcome = Outcome {
        scenario: args.label.clone().unwrap_or_else(|| format!("idle-{}", args.clients)),
        server: args.server.clone(),
        deliveries_per_s: None,
        p50_ms: None,
        p99_ms: None,
        delivered: None,
        expected: None,
        rss_kb_per_conn: Some(((after.saturating_sub(before)) as f64 / args.clients as f64 * 100.0).round() / 100.0),
        server_rss_kb: Some(after),
        connects_per_s: None,
        loadgen_cpu_pct: None,
        server_cpu_pct: None,
    };
    drop(open);
    outcome
}

async fn storm(args: Rc<Args>) -> Outcome {
    let started = Instant::now();
    let ok = Rc::new(Cell::new(0u64));
    let failed = Rc::new(Cell::new(0u64));
    for chunk in (0..args.clients).collect::<Vec<_>>().chunks(64) {
        let batch: Vec<_> = chunk.iter().map(|_| client::connect(&args)).collect();
        for result in futures_util::future::join_all(batch).await {
            match result {
                Ok(mut conn) => {
                    ok.set(ok.get() + 1);
                    let _ = conn.writer.close().await;
                }
                Err(error) => {
                    if failed.get() == 0 {
                        eprintln!("storm: {error}");
                    }
                    failed.set(failed.get() + 1);
                }
            }
        }
    }
    let elapsed = started.elapsed().as_secs_f64();
    Outcome {
        scenario: args.label.clone().unwrap_or_else(|| "connect-storm".into()),
        server: args.server.clone(),
        deliveries_per_s: None,
        p50_ms: None,
        p99_ms: None,
        delivered: Some(ok.get()),
        expected: Some(args.clients as u64),
        rss_kb_per_conn: None,
        server_rss_kb: args.server_pid.and_then(rss_kb),
        connects_per_s: Some((ok.get() as f64 / elapsed).round()),
        loadgen_cpu_pct: None,
        server_cpu_pct: None,
    }
}

/// Runs the scenario `args` names.
pub(crate) async fn run(args: &Args) -> Outcome {
    let args = Rc::new(args.clone());
    LocalSet::new()
        .run_until(async move {
            match args.scenario {
                Scenario::Fanout => fanout(args).await,
                Scenario::Chat => chat(args).await,
                Scenario::Idle => idle(args).await,
                Scenario::Storm => storm(args).await,
            }
        })
        .await
}
