//! Hot reload: plugin code and config swapped while clients keep sending, with nothing
//! lost or doubled, state carried across, and broken files keeping the old version live.

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use roomd::reload::Reloader;
use serde_json::Value;

use crate::support::plugins::wasm;
use crate::support::{Reloads, TestServer, Ws, next_reload, replace_file};

fn counter_config(dir: &Path, extra: &str) -> PathBuf {
    let config = dir.join("config.toml");
    std::fs::write(
        &config,
        format!("[plugins.counter]\npath = \"counter.wasm\"\n[[namespace]]\nname = \"/\"\nplugins = [\"counter\"]\n{extra}"),
    )
    .unwrap();
    config
}

fn temp_dir(name: &str) -> PathBuf {
    let dir = Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// Sends `tick` with ack `id` and returns the counter's answer.
async fn tick(ws: &mut Ws, id: u64) -> (u64, u64) {
    ws.send(&format!(r#"42{id}["tick"]"#)).await;
    let answer = ws.text().await;
    let body = answer.strip_prefix(&format!("43{id}")).unwrap_or_else(|| panic!("ack {id}: {answer}"));
    let value: Vec<Value> = serde_json::from_str(body).unwrap();
    (value[0]["version"].as_u64().unwrap(), value[0]["count"].as_u64().unwrap())
}

/// A watched server running the counter from a fresh folder `name` (returned), and a
/// client whose first tick it has answered.
async fn ticking_counter(name: &str) -> (PathBuf, TestServer, Reloads, Reloader, Ws) {
    let dir = temp_dir(name);
    std::fs::copy(wasm("counter"), dir.join("counter.wasm")).unwrap();
    let config = counter_config(&dir, "");
    let (server, reloads, watch) = TestServer::start_watched(&config).await;
    let (mut ws, _) = Ws::socket(server.addr, "/").await;
    assert_eq!(tick(&mut ws, 1).await, (1, 1));
    (dir, server, reloads, watch, ws)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_swapped_mid_stream_loses_and_repeats_nothing() {
    let dir = temp_dir("swap");
    std::fs::copy(wasm("counter"), dir.join("counter.wasm")).unwrap();
    let config = counter_config(&dir, "");
    let (server, mut reloads, _watch) = TestServer::start_watched(&config).await;
    let v2 = std::fs::read(wasm("counter-v2")).unwrap();

    // Each client ticks until it has had 50 answers from the new code (at most 5,000).
    let mut clients = Vec::new();
    for _ in 0..2 {
        let (ws, _) = Ws::socket(server.addr, "/").await;
        clients.push(tokio::spawn(async move {
            let mut ws = ws;
            let mut seen = Vec::new();
            let mut from_v2 = 0;
            for id in 0..5_000 {
                let answer = tick(&mut ws, id).await;
                from_v2 += u64::from(answer.0 == 2);
                seen.push((answer, Instant::now()));
                if from_v2 == 50 {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
            seen
        }));
    }
    tokio::time::sleep(Duration::from_millis(100)).await;
    let written = Instant::now();
    replace_file(&dir.join("counter.wasm"), &v2);
    let report = next_reload(&mut reloads).await.expect("the new code loads");
    assert_eq!(report.swapped, vec!["counter@/"]);

    let mut counts: Vec<u64> = Vec::new();
    let mut first_v2: Option<Instant> = None;
    for client in clients {
        let seen = client.await.unwrap();
        let versions: Vec<u64> = seen.iter().map(|((v, _), _)| *v).collect();
        assert!(versions.windows(2).all(|w| w[0] <= w[1]), "never back to the old code: {versions:?}");
        assert_eq!(versions.last(), Some(&2), "the new code serves in the end");
        for ((version, count), at) in seen {
            counts.push(count);
            if version == 2 {
                first_v2 = Some(first_v2.map_or(at, |t| t.min(at)));
            }
        }
    }
    counts.sort_unstable();
    let expected: Vec<u64> = (1..=counts.len() as u64).collect();
    assert_eq!(counts, expected, "every event counted exactly once, across the swap");
    let swap = first_v2.unwrap().duration_since(written);
    println!("measured: .wasm written → new code serving: {} ms (debounce included)", swap.as_millis());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_broken_wasm_keeps_the_old_version_live() {
    let (dir, _server, mut reloads, _watch, mut ws) = ticking_counter("broken-wasm").await;

    replace_file(&dir.join("counter.wasm"), b"\0asm garbage");
    let error = next_reload(&mut reloads).await.expect_err("garbage does not load");
    assert!(error.contains("counter.wasm") && error.contains("plugin counter"), "{error}");
    assert_eq!(tick(&mut ws, 2).await, (1, 2), "the old version still serves, state intact");

    replace_file(&dir.join("counter.wasm"), &std::fs::read(wasm("counter-v2")).unwrap());
    next_reload(&mut reloads).await.expect("the fixed file loads");
    assert_eq!(tick(&mut ws, 3).await, (2, 3));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn config_reloads_swap_chains_and_namespaces_and_bad_files_change_nothing() {
    let dir = temp_dir("config-reload");
    std::fs::copy(wasm("counter"), dir.join("counter.wasm")).unwrap();
    std::fs::copy(wasm("tagger"), dir.join("tagger.wasm")).unwrap();
    let config = counter_config(&dir, "");
    let (server, mut reloads, _watch) = TestServer::start_watched(&config).await;
    let (mut ws, _) = Ws::socket(server.addr, "/").await;
    assert_eq!(tick(&mut ws, 1).await, (1, 1));

    // A config that does not parse changes nothing.
    replace_file(&config, b"[plugins.counter\npath = ");
    let error = next_reload(&mut reloads).await.expect_err("bad TOML");
    assert!(error.contains("config.toml"), "{error}");
    assert_eq!(tick(&mut ws, 2).await, (1, 2));
    // Nor does one that names a plugin that does not exist.
    replace_file(&config, b"[[namespace]]\nname = \"/\"\nplugins = [\"ghost\"]\n");
    let error = next_reload(&mut reloads).await.expect_err("unknown plugin");
    assert!(error.contains("namespace[0].plugins"), "{error}");
    assert_eq!(tick(&mut ws, 3).await, (1, 3));

    // A new chain: tagger in front of the counter, and a new namespace; same connection.
    replace_file(
        &config,
        b"[plugins.counter]\npath = \"counter.wasm\"\n[plugins.tag]\npath = \"tagger.wasm\"\n[plugins.tag.config]\ntag = \"T\"\n\
          [[namespace]]\nname = \"/\"\nplugins = [\"tag\", \"counter\"]\n[[namespace]]\nname = \"/new\"\n",
    );
    let report = next_reload(&mut reloads).await.expect("valid config");
    assert_eq!((report.rechained.as_slice(), report.added.as_slice()), (&["/".to_owned()][..], &["/new".to_owned()][..]));
    ws.send(r#"429["rooms"]"#).await;
    assert!(ws.text().await.starts_with("439[["), "the tagger now answers first");
    assert_eq!(tick(&mut ws, 4).await, (1, 4), "the counter kept its state");
    ws.connect_nsp("/new").await;

    // Removing the namespace disconnects its sockets.
    replace_file(&config, b"[plugins.counter]\npath = \"counter.wasm\"\n[[namespace]]\nname = \"/\"\nplugins = [\"counter\"]\n");
    let report = next_reload(&mut reloads).await.expect("valid config");
    assert_eq!(report.removed, vec!["/new"]);
    assert_eq!(ws.text().await, "41/new,");
    assert_eq!(tick(&mut ws, 5).await, (1, 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn files_written_beside_the_watched_ones_wake_no_reload() {
    let (dir, _server, mut reloads, _watch, mut ws) = ticking_counter("beside").await;

    // A log, an editor's swap file and a file renamed in: none is the config or a plugin.
    std::fs::write(dir.join("roomd.log"), "a line\n").unwrap();
    std::fs::write(dir.join(".config.toml.swp"), "swap").unwrap();
    replace_file(&dir.join("notes.txt"), b"notes");
    // Far longer than the debounce and a reload of this config take.
    tokio::time::sleep(Duration::from_millis(1_000)).await;
    assert!(reloads.try_recv().is_err(), "no reload for files that are not the config or a plugin");

    // The plugin itself still counts.
    replace_file(&dir.join("counter.wasm"), &std::fs::read(wasm("counter-v2")).unwrap());
    assert_eq!(next_reload(&mut reloads).await.expect("the new code loads").swapped, vec!["counter@/"]);
    assert_eq!(tick(&mut ws, 2).await, (2, 2));
}

/// A config may name a plugin before its file is there: that reload fails, and the file's
/// arrival, though no file the running config names, reloads.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_file_copied_in_after_the_config_naming_it_is_picked_up() {
    let (dir, _server, mut reloads, _watch, mut ws) = ticking_counter("late-file").await;
    replace_file(
        &dir.join("config.toml"),
        b"[plugins.counter]\npath = \"counter.wasm\"\n[plugins.tag]\npath = \"tagger.wasm\"\n[plugins.tag.config]\ntag = \"T\"\n\
          [[namespace]]\nname = \"/\"\nplugins = [\"tag\", \"counter\"]\n",
    );
    let error = next_reload(&mut reloads).await.expect_err("tagger.wasm is not there yet");
    assert!(error.contains("tagger.wasm"), "{error}");
    assert_eq!(tick(&mut ws, 2).await, (1, 2), "the running chain still serves");

    replace_file(&dir.join("tagger.wasm"), &std::fs::read(wasm("tagger")).unwrap());
    let report = next_reload(&mut reloads).await.expect("the config applies once its plugin is there");
    assert_eq!(report.rechained, vec!["/"]);
    ws.send(r#"429["rooms"]"#).await;
    assert!(ws.text().await.starts_with("439[["), "the tagger now answers first");
}
