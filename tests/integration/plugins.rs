//! The middleware chain with real WebAssembly plugins: order, every verdict, host
//! actions, and every failure mode under both failure policies.

use std::time::Duration;

use crate::support::plugins::wasm;
use crate::support::{Polling, Read, TestServer, Ws, metric_labelled, next_reload, request};

const QUIET: Duration = Duration::from_millis(200);

fn taggers() -> String {
    let tagger = wasm("tagger");
    format!(
        "[plugins.a]\npath = {tagger:?}\n[plugins.a.config]\ntag = \"A\"\n\
         [plugins.b]\npath = {tagger:?}\n[plugins.b.config]\ntag = \"B\"\n\
         [[namespace]]\nname = \"/\"\nplugins = [\"a\", \"b\"]\n"
    )
}

#[tokio::test]
async fn plugins_run_in_order_and_rewrite_events() {
    let server = TestServer::start(&taggers()).await;
    let (mut x, _) = Ws::socket(server.addr, "/").await;
    let (mut y, _) = Ws::socket(server.addr, "/").await;
    x.send(r#"42["say","hi",{"keep":[1,2]}]"#).await;
    assert_eq!(y.text().await, r#"42["say","hiAB",{"keep":[1,2]}]"#);
    x.send(r#"42["rename",1]"#).await;
    assert_eq!(y.text().await, r#"42["renamed-by-A",1]"#, "B sees A's rename and lets it through");
    x.send(r#"421["whoami"]"#).await;
    assert_eq!(x.text().await, r#"431[{"tag_A":true,"tag_B":true}]"#, "data attached at connect by both");
    y.expect_silence(QUIET).await;
}

/// Events a client sent together (here one polling request) enter each plugin once, in
/// order, each with its own verdict; a disconnect verdict drops what came after it, not
/// what came before.
#[tokio::test]
async fn events_that_arrive_together_enter_each_plugin_once() {
    let server = TestServer::start(&taggers()).await;
    let app = server.app.as_ref().unwrap();
    let (a, b) = (app.slot("a", "/").unwrap(), app.slot("b", "/").unwrap());
    let (mut y, _) = Ws::socket(server.addr, "/").await;
    let x = Polling::open(server.addr).await;
    assert_eq!(x.send("40").await.status, 200);
    assert!(x.poll().await.body.starts_with(r#"40{"sid":"#));
    let calls = (a.calls(), b.calls());
    let burst = [
        r#"42["say","1"]"#,
        r#"421["reject-me"]"#,
        r#"42["rename",2]"#,
        r#"422["whoami"]"#,
        r#"42["kick-verdict"]"#,
        r#"42["say","never"]"#,
    ];
    assert_eq!(x.send(&burst.join("\u{1e}")).await.status, 200);
    assert_eq!(y.text().await, r#"42["say","1AB"]"#);
    assert_eq!(y.text().await, r#"42["renamed-by-A",2]"#);
    let seen = x.packets(3).await;
    assert_eq!(seen, [r#"431[{"ok":false,"error":"rejected by A","data":{"by":"A"}}]"#, r#"432[{"tag_A":true,"tag_B":true}]"#, "41"]);
    // One call for the six events (B's for the two A let through), one to tell of the
    // disconnect.
    assert_eq!((a.calls() - calls.0, b.calls() - calls.1), (2, 2));
    y.expect_silence(QUIET).await;
}

/// A long burst is asked about in parts of at most `MAX_EVENTS_PER_CALL` events, each call
/// under its own deadline; the order holds across the parts.
#[tokio::test]
async fn a_long_burst_enters_a_plugin_in_parts() {
    use roomd::middleware::MAX_EVENTS_PER_CALL;
    let server = TestServer::start(&taggers()).await;
    let a = server.app.as_ref().unwrap().slot("a", "/").unwrap();
    let (mut y, _) = Ws::socket(server.addr, "/").await;
    let x = Polling::open(server.addr).await;
    assert_eq!(x.send("40").await.status, 200);
    assert!(x.poll().await.body.starts_with(r#"40{"sid":"#));
    let calls = a.calls();
    let count = 2 * MAX_EVENTS_PER_CALL + 1;
    let burst: Vec<String> = (0..count).map(|n| format!(r#"42["say","{n}"]"#)).collect();
    assert_eq!(x.send(&burst.join("\u{1e}")).await.status, 200);
    for n in 0..count {
        assert_eq!(y.text().await, format!(r#"42["say","{n}AB"]"#));
    }
    assert_eq!(a.calls() - calls, 3, "{count} events: two full parts and one of a single event");
}

/// Room requests end a burst's part: the events after a `join` are decided with the
/// socket already in the room (here tagger's `rooms`, answered from roomd's rooms).
#[tokio::test]
async fn events_after_a_join_see_the_room() {
    let server = TestServer::start(&taggers()).await;
    let x = Polling::open(server.addr).await;
    assert_eq!(x.send("40").await.status, 200);
    let connected = x.poll().await.body;
    let sid: serde_json::Value = serde_json::from_str(&connected[2..]).unwrap();
    let sid = sid["sid"].as_str().unwrap().to_owned();
    assert_eq!(x.send(&[r#"421["join","lobby"]"#, r#"422["rooms"]"#].join("\u{1e}")).await.status, 200);
    let mut seen: Vec<String> = Vec::new();
    while !seen.iter().any(|packet| packet.starts_with("432")) {
        seen.extend(x.poll().await.body.split('\u{1e}').map(str::to_owned));
    }
    let mut rooms = vec!["lobby".to_owned(), sid];
    rooms.sort();
    let answer = seen.iter().find(|packet| packet.starts_with("432")).unwrap();
    assert_eq!(*answer, format!("432[{}]", serde_json::to_string(&rooms).unwrap()), "{seen:?}");
}

/// A packet that breaks the protocol ends the burst it came in: what came before it is
/// handled, what came after is not.
#[tokio::test]
async fn a_protocol_error_ends_its_burst() {
    let server = TestServer::start(&taggers()).await;
    let (mut y, _) = Ws::socket(server.addr, "/").await;
    let (mut x, _) = Ws::socket(server.addr, "/").await;
    x.send_at_once(&[r#"42["say","before"]"#, r#"42/nowhere,["say","x"]"#, r#"42["say","after"]"#]).await;
    assert_eq!(y.text().await, r#"42["say","beforeAB"]"#);
    y.expect_silence(QUIET).await;
    x.expect_closed().await;
}

/// A frame over `max_payload` ends the read it came in: the events before it in the same
/// write are still handled, then the connection closes with 1009.
#[tokio::test]
async fn an_oversized_frame_ends_its_burst_after_what_came_before() {
    let config = format!("[engine]\nmax_payload_bytes = 1000\n{}", taggers());
    let server = TestServer::start(&config).await;
    let (mut y, _) = Ws::socket(server.addr, "/").await;
    let (mut x, _) = Ws::socket(server.addr, "/").await;
    let oversized = format!(r#"42["say","{}"]"#, "x".repeat(2000));
    x.send_at_once(&[r#"42["say","1"]"#, r#"42["say","2"]"#, &oversized]).await;
    assert_eq!(y.text().await, r#"42["say","1AB"]"#);
    assert_eq!(y.text().await, r#"42["say","2AB"]"#);
    assert_eq!(x.close_code().await, Some(1009));
    y.expect_silence(QUIET).await;
}

/// In one burst, events for two namespaces and a client ack in between keep the order the
/// client sent them in: each namespace's run of events goes through its own chain.
#[tokio::test]
async fn a_burst_across_namespaces_keeps_its_order() {
    let tagger = wasm("tagger");
    let config = format!(
        "[plugins.a]\npath = {tagger:?}\n[plugins.a.config]\ntag = \"A\"\n\
         [plugins.b]\npath = {tagger:?}\n[plugins.b.config]\ntag = \"B\"\n\
         [[namespace]]\nname = \"/\"\nplugins = [\"a\"]\n[[namespace]]\nname = \"/b\"\nplugins = [\"b\"]\n"
    );
    let server = TestServer::start(&config).await;
    let (a, b) = {
        let app = server.app.as_ref().unwrap();
        (app.slot("a", "/").unwrap(), app.slot("b", "/b").unwrap())
    };
    let x = Polling::open(server.addr).await;
    assert_eq!(x.send("40\u{1e}40/b,").await.status, 200);
    assert!(x.packets(2).await.iter().all(|packet| packet.starts_with("40")), "both namespaces joined");
    let calls = (a.calls(), b.calls());
    let burst = [
        r#"421["whoami"]"#,
        r#"422["rooms"]"#,
        r#"42/b,3["whoami"]"#,
        r#"42/b,4["reject-me"]"#,
        r#"425["whoami"]"#,
    ];
    assert_eq!(x.send(&burst.join("\u{1e}")).await.status, 200);
    let seen = x.packets(5).await;
    let ids: Vec<&str> = seen.iter().map(|packet| packet.trim_start_matches("43").trim_start_matches("/b,")).map(|rest| &rest[..1]).collect();
    assert_eq!(ids, ["1", "2", "3", "4", "5"], "{seen:?}");
    assert!(seen[3].contains("rejected by B"), "{seen:?}");
    // "/" took two calls (events 1-2, then 5), "/b" one (3-4).
    assert_eq!((a.calls() - calls.0, b.calls() - calls.1), (2, 1));
}

/// Frames a WebSocket client wrote at once are read together: they enter each plugin in
/// one call, in order. A read hands on at most `MAX_READ_BATCH` of them; the rest follow
/// in the next.
#[tokio::test]
async fn frames_written_at_once_enter_each_plugin_once() {
    use roomd::engineio::MAX_READ_BATCH;
    let server = TestServer::start(&taggers()).await;
    let a = server.app.as_ref().unwrap().slot("a", "/").unwrap();
    let (mut x, _) = Ws::socket(server.addr, "/").await;
    let (mut y, _) = Ws::socket(server.addr, "/").await;
    for (count, calls) in [(3, 1), (MAX_READ_BATCH + 6, 2)] {
        let before = a.calls();
        let frames: Vec<String> = (0..count).map(|n| format!(r#"42["say","{n}"]"#)).collect();
        x.send_at_once(&frames).await;
        for n in 0..count {
            assert_eq!(y.text().await, format!(r#"42["say","{n}AB"]"#));
        }
        assert_eq!(a.calls() - before, calls, "{count} frames");
    }
}

#[tokio::test]
async fn a_plugin_is_called_only_for_what_it_asked() {
    // B wants the "say" event and room joins, nothing else: no connects, no other events.
    let tagger = wasm("tagger");
    let config = format!(
        "[plugins.a]\npath = {tagger:?}\n[plugins.a.config]\ntag = \"A\"\n\
         [plugins.b]\npath = {tagger:?}\n[plugins.b.config]\ntag = \"B\"\nonly_events = [\"say\"]\nhooks = [\"room-joined\"]\n\
         [[namespace]]\nname = \"/\"\nplugins = [\"a\", \"b\"]\n"
    );
    let server = TestServer::start(&config).await;
    let (mut x, _) = Ws::open(server.addr).await;
    x.send(r#"40{"deny":"B"}"#).await;
    let answer = x.text().await;
    assert!(answer.starts_with(r#"40{"sid":"#), "B never saw the CONNECT it would have refused: {answer}");
    let (mut y, _) = Ws::socket(server.addr, "/").await;
    x.send(r#"42["say","hi"]"#).await;
    assert_eq!(y.text().await, r#"42["say","hiAB"]"#, "both tag the event B asked for");
    x.send(r#"427["reject-me"]"#).await;
    assert_eq!(x.text().await, r#"437[{"ok":false,"error":"rejected by A","data":{"by":"A"}}]"#);
    x.send(r#"421["whoami"]"#).await;
    assert_eq!(x.text().await, r#"431[{"tag_A":true}]"#, "only A attached data at connect");
    x.send(r#"422["plugin-join","lobby"]"#).await;
    assert_eq!(x.text().await, r#"42["joined","lobby","A"]"#);
    assert_eq!(x.text().await, r#"42["joined","lobby","B"]"#, "B asked for room joins");
    assert_eq!(x.text().await, "432[true]");
    x.send(r#"423["plugin-leave","lobby"]"#).await;
    assert_eq!(x.text().await, r#"42["left","lobby","A"]"#);
    assert_eq!(x.text().await, "433[true]", "B did not ask for room leaves");
    y.expect_silence(QUIET).await;
}

#[tokio::test]
async fn a_plugin_that_skips_a_socket_sees_none_of_its_events_until_swapped() {
    let dir = std::path::Path::new(env!("CARGO_TARGET_TMPDIR")).join(format!("skip-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    let config = dir.join("config.toml");
    let toml = |b: &str| {
        let tagger = wasm("tagger");
        format!(
            "[plugins.a]\npath = {tagger:?}\n[plugins.a.config]\ntag = \"A\"\n\
             [plugins.b]\npath = {tagger:?}\n[plugins.b.config]\ntag = \"{b}\"\n\
             [[namespace]]\nname = \"/\"\nplugins = [\"a\", \"b\"]\n"
        )
    };
    std::fs::write(&config, toml("B")).unwrap();
    let (server, mut reloads, _watch) = TestServer::start_watched(&config).await;
    let (mut x, _) = Ws::socket(server.addr, "/").await;
    let (mut y, _) = Ws::socket(server.addr, "/").await;
    x.send(r#"42["skip-me","B"]"#).await;
    assert_eq!(y.text().await, r#"42["skip-me","B"]"#, "the event that asked still goes on");
    x.send(r#"42["say","hi"]"#).await;
    assert_eq!(y.text().await, r#"42["say","hiA"]"#, "B no longer sees x's events");
    y.send(r#"42["say","yo"]"#).await;
    assert_eq!(x.text().await, r#"42["say","yoAB"]"#, "but still sees y's");

    // A reload that changes B's config swaps it: the new version sees x again.
    std::fs::write(&config, toml("C")).unwrap();
    next_reload(&mut reloads).await.unwrap();
    x.send(r#"42["say","hi"]"#).await;
    assert_eq!(y.text().await, r#"42["say","hiAC"]"#);

    // A socket that leaves is forgotten.
    let slot = server.app.as_ref().unwrap().slot("b", "/").unwrap();
    assert_eq!(slot.skipped_sockets(), 0, "emptied by the swap");
    x.send(r#"42["skip-me","C"]"#).await;
    assert_eq!(y.text().await, r#"42["skip-me","C"]"#);
    assert_eq!(slot.skipped_sockets(), 1);
    x.send("41").await;
    let deadline = std::time::Instant::now() + Duration::from_secs(5);
    while slot.skipped_sockets() > 0 && std::time::Instant::now() < deadline {
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    assert_eq!(slot.skipped_sockets(), 0, "x left");
}

#[tokio::test]
async fn plugins_see_the_first_requests_headers_at_every_connect() {
    let tagger = wasm("tagger");
    let config = format!(
        "[plugins.a]\npath = {tagger:?}\n[plugins.a.config]\ntag = \"A\"\n\
         [[namespace]]\nname = \"/\"\nplugins = [\"a\"]\n[[namespace]]\nname = \"/late\"\nplugins = [\"a\"]\n"
    );
    let server = TestServer::start(&config).await;
    let path = "/socket.io/?EIO=4&transport=polling&room=7";
    let answer = request(server.addr, "GET", path, &[("x-client", "roomd-test/1.0")], bytes::Bytes::new()).await;
    let open: serde_json::Value = serde_json::from_str(&answer.body[1..]).unwrap();
    let session = Polling { addr: server.addr, sid: open["sid"].as_str().unwrap().to_owned() };
    // Two namespaces, the second joined later: both see the handshake's headers.
    for nsp in ["", "/late,"] {
        session.send(&format!(r#"40{nsp}{{"echo_header":"x-client"}}"#)).await;
        assert!(session.poll().await.body.starts_with(&format!("40{nsp}")));
        session.send(&format!(r#"42{nsp}1["whoami"]"#)).await;
        assert_eq!(
            session.poll().await.body,
            format!(r#"43{nsp}1[{{"header":"roomd-test/1.0","query":"EIO=4&transport=polling&room=7"}}]"#)
        );
    }
}

#[tokio::test]
async fn rejections_reach_the_client() {
    let server = TestServer::start(&taggers()).await;
    let (mut x, _) = Ws::open(server.addr).await;
    x.send(r#"40{"deny":"B"}"#).await;
    assert_eq!(x.text().await, r#"44{"message":"denied by B","data":{"by":"B"}}"#);
    let sid = x.connect_nsp("/").await;
    assert_eq!(sid.len(), 20, "a refused CONNECT leaves the session usable");
    let (mut y, _) = Ws::socket(server.addr, "/").await;
    x.send(r#"427["reject-me",1]"#).await;
    assert_eq!(x.text().await, r#"437[{"ok":false,"error":"rejected by A","data":{"by":"A"}}]"#);
    y.expect_silence(QUIET).await;
    x.send(r#"42["kick-verdict"]"#).await;
    assert_eq!(x.text().await, "41", "a disconnect verdict removes the socket");
}

#[tokio::test]
async fn plugins_act_through_the_host() {
    let server = TestServer::start(&taggers()).await;
    let (mut x, x_id) = Ws::socket(server.addr, "/").await;
    let (mut y, _) = Ws::socket(server.addr, "/").await;

    x.send(r#"421["plugin-join","lobby"]"#).await;
    // The join takes effect when A's hook returns; both plugins hear of it, in order.
    assert_eq!(x.text().await, r#"42["joined","lobby","A"]"#);
    assert_eq!(x.text().await, r#"42["joined","lobby","B"]"#);
    assert_eq!(x.text().await, "431[true]");
    x.send(r#"422["rooms"]"#).await;
    let mut rooms = vec!["lobby".to_owned(), x_id.clone()];
    rooms.sort();
    assert_eq!(x.text().await, format!("432[{}]", serde_json::to_string(&rooms).unwrap()));

    y.send(r#"423["plugin-emit","lobby"]"#).await;
    assert_eq!(x.text().await, r#"42["from-plugin","A"]"#);
    assert_eq!(y.text().await, "433[1]");

    x.send(r#"424["plugin-leave","lobby"]"#).await;
    assert_eq!(x.text().await, r#"42["left","lobby","A"]"#);
    assert_eq!(x.text().await, r#"42["left","lobby","B"]"#);
    assert_eq!(x.text().await, "434[true]");

    x.send(r#"425["plugin-kick"]"#).await;
    assert_eq!(x.text().await, "41");
}

/// The chaos plugin twice, `{name}-closed` and `{name}-open` (names are unique per test:
/// failure counters are process-wide).
fn chaos(name: &str) -> String {
    let chaos = wasm("chaos");
    format!(
        "[plugins.{name}-closed]\npath = {chaos:?}\ntimeout_ms = 20\nmax_memory_mb = 8\n\
         [plugins.{name}-open]\npath = {chaos:?}\non_error = \"fail-open\"\ntimeout_ms = 20\nmax_memory_mb = 8\n\
         [[namespace]]\nname = \"/closed\"\nplugins = [\"{name}-closed\"]\n\
         [[namespace]]\nname = \"/open\"\nplugins = [\"{name}-open\"]\n\
         [[namespace]]\nname = \"/\"\n"
    )
}

/// A plugin whose `on-events` answers another number of verdicts than it was given
/// events has failed for every event of the call, and the failure is counted once.
#[tokio::test]
async fn a_wrong_verdict_count_fails_every_event_of_the_call() {
    let miscount = wasm("miscount");
    let config = format!(
        "[plugins.miscount-closed]\npath = {miscount:?}\n\
         [plugins.miscount-open]\npath = {miscount:?}\non_error = \"fail-open\"\n\
         [[namespace]]\nname = \"/closed\"\nplugins = [\"miscount-closed\"]\n\
         [[namespace]]\nname = \"/open\"\nplugins = [\"miscount-open\"]\n"
    );
    let server = TestServer::start(&config).await;
    let x = Polling::open(server.addr).await;
    assert_eq!(x.send("40/closed,\u{1e}40/open,").await.status, 200);
    assert!(x.packets(2).await.iter().all(|packet| packet.starts_with("40")), "both namespaces joined");
    let before = metric_labelled(server.addr, "roomd_plugin_failures_total", "miscount-closed").await;
    let burst = [r#"42/closed,1["a"]"#, r#"42/closed,2["b"]"#, r#"42/open,3["c"]"#, r#"42/open,4["d"]"#];
    assert_eq!(x.send(&burst.join("\u{1e}")).await.status, 200);
    let seen = x.packets(4).await;
    let refused = |id: u32| format!(r#"43/closed,{id}[{{"ok":false,"error":"plugin miscount-closed failed"}}]"#);
    assert_eq!(seen, [refused(1), refused(2), r#"43/open,3[{"ok":true}]"#.into(), r#"43/open,4[{"ok":true}]"#.into()]);
    let after = metric_labelled(server.addr, "roomd_plugin_failures_total", "miscount-closed").await;
    assert_eq!(after - before, 1, "one call failed");
}

#[tokio::test]
async fn each_failure_mode_under_each_policy() {
    let server = TestServer::start(&chaos("chaos")).await;
    let (mut closed, _) = Ws::socket(server.addr, "/closed").await;
    let (mut closed_peer, _) = Ws::socket(server.addr, "/closed").await;
    let (mut open, _) = Ws::socket(server.addr, "/open").await;
    let (mut open_peer, _) = Ws::socket(server.addr, "/open").await;
    let failures_before = metric_labelled(server.addr, "roomd_plugin_failures_total", "chaos-closed").await;

    for mode in ["trap", "loop", "grow", "bad-modify", "bad-reject"] {
        closed.send(&format!(r#"42/closed,1["{mode}"]"#)).await;
        assert_eq!(
            closed.text().await,
            r#"43/closed,1[{"ok":false,"error":"plugin chaos-closed failed"}]"#,
            "{mode}: fail-closed refuses"
        );
        closed_peer.expect_silence(Duration::from_millis(50)).await;

        open.send(&format!(r#"42/open,1["{mode}"]"#)).await;
        assert_eq!(open_peer.text().await, format!(r#"42/open,["{mode}"]"#), "{mode}: fail-open lets it through");
        assert_eq!(open.text().await, r#"43/open,1[{"ok":true}]"#);
    }
    let failures_after = metric_labelled(server.addr, "roomd_plugin_failures_total", "chaos-closed").await;
    assert_eq!(failures_after - failures_before, 5, "every failure is counted");

    // After a trap the plugin serves again from a fresh instance...
    closed.send(r#"42/closed,2["trap"]"#).await;
    closed.text().await;
    closed.send(r#"42/closed,3["seen"]"#).await;
    assert_eq!(closed.text().await, "43/closed,3[1]", "a fresh instance has seen one event");
    // ...while state kept in the host's key-value store survives.
    closed.send(r#"42/closed,4["kv-bump"]"#).await;
    assert_eq!(closed.text().await, "43/closed,4[1]");
    closed.send(r#"42/closed,5["trap"]"#).await;
    closed.text().await;
    closed.send(r#"42/closed,6["kv-bump"]"#).await;
    assert_eq!(closed.text().await, "43/closed,6[2]");
    // One call may ask for at most 1,024 joins; the rest are refused to the plugin.
    closed.send(r#"42/closed,8["join-flood"]"#).await;
    assert_eq!(closed.text().await, "43/closed,8[1024]");
    // Writing to stdout is harmless.
    closed.send(r#"42/closed,7["print"]"#).await;
    assert_eq!(closed.text().await, r#"43/closed,7[{"ok":true}]"#);

    // Namespaces without the plugin never noticed.
    let (mut a, _) = Ws::socket(server.addr, "/").await;
    let (mut b, _) = Ws::socket(server.addr, "/").await;
    a.send(r#"42["fine"]"#).await;
    assert_eq!(b.text().await, r#"42["fine"]"#);
}

#[tokio::test]
async fn failures_at_connect_follow_the_policy() {
    let server = TestServer::start(&chaos("boot")).await;
    for mode in ["trap", "loop", "bad"] {
        let (mut ws, _) = Ws::open(server.addr).await;
        ws.send(&format!(r#"40/closed,{{"chaos":"{mode}"}}"#)).await;
        assert_eq!(
            ws.text().await,
            r#"44/closed,{"message":"plugin boot-closed failed","data":{"plugin":"boot-closed"}}"#,
            "{mode}"
        );
        ws.send(&format!(r#"40/open,{{"chaos":"{mode}"}}"#)).await;
        assert!(ws.text().await.starts_with(r#"40/open,{"sid":"#), "{mode}: fail-open admits");
    }
}

#[tokio::test]
async fn binary_attachments_pass_through_plugins_untouched() {
    let server = TestServer::start(&taggers()).await;
    let (mut x, _) = Ws::socket(server.addr, "/").await;
    let (mut y, _) = Ws::socket(server.addr, "/").await;
    x.send(r#"451-["blob",{"_placeholder":true,"num":0}]"#).await;
    x.send_binary(&[7, 7, 7]).await;
    assert_eq!(y.text().await, r#"451-["blob",{"_placeholder":true,"num":0}]"#);
    assert_eq!(y.read().await, Read::Binary(vec![7, 7, 7]));
}

#[tokio::test]
async fn a_plugin_whose_init_never_returns_is_refused_at_load() {
    let chaos = wasm("chaos");
    let toml = format!("[plugins.stuck]\npath = {chaos:?}\n[plugins.stuck.config]\ninit = \"loop\"\n[[namespace]]\nname = \"/\"\nplugins = [\"stuck\"]\n");
    let config = roomd::config::Config::parse(&toml, std::path::Path::new("test.toml")).unwrap();
    let error = roomd::app::App::build(config).err().expect("refused").to_string();
    assert_eq!(error, "plugin stuck: cannot load: init failed: timed out");
}

/// Many sockets sending at once: their bursts may wait on the namespace's stage and be
/// decided together. Every event still arrives once, rewritten by every plugin, in the
/// order its sender sent it.
#[tokio::test]
async fn many_sockets_sending_at_once_lose_nothing_and_keep_each_senders_order() {
    const SENDERS: usize = 8;
    const BURSTS: usize = 4;
    const PER_BURST: usize = 5;
    let server = TestServer::start(&taggers()).await;
    let mut clients = Vec::new();
    for _ in 0..SENDERS {
        clients.push(Ws::socket(server.addr, "/").await.0);
    }
    for burst in 0..BURSTS {
        for (i, ws) in clients.iter_mut().enumerate() {
            let texts: Vec<String> = (0..PER_BURST).map(|k| format!(r#"42["say","{i}:{}"]"#, burst * PER_BURST + k)).collect();
            ws.send_at_once(&texts).await;
        }
    }
    for (me, ws) in clients.iter_mut().enumerate() {
        let mut next = [0usize; SENDERS];
        for _ in 0..(SENDERS - 1) * BURSTS * PER_BURST {
            let text = ws.text().await;
            let body = text.strip_prefix(r#"42["say",""#).and_then(|t| t.strip_suffix(r#"AB"]"#)).unwrap_or_else(|| panic!("{text}"));
            let (from, n) = body.split_once(':').unwrap();
            let (from, n): (usize, usize) = (from.parse().unwrap(), n.parse().unwrap());
            assert_ne!(from, me, "the sender is left out");
            assert_eq!(n, next[from], "from {from}, in order");
            next[from] += 1;
        }
        ws.expect_silence(QUIET).await;
    }
}
