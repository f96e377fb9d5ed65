//! Every malformed or unexpected request gets the protocol's answer, and a client that
//! breaks the protocol loses its session — never a panic, never a hang.

use crate::support::{Polling, TestServer, Ws, get, metric, request};

const SERVER: &str = "[engine]\nmax_payload_bytes = 1000\n[socketio]\nmax_attachments = 2\n";

#[tokio::test]
async fn refused_requests_get_node_compatible_errors() {
    let server = TestServer::start(SERVER).await;
    let live = Polling::open(server.addr).await;
    let live_sid = format!("&sid={}", live.sid);
    // (method, query, status, body)
    let table: Vec<(&str, String, u16, &str)> = vec![
        ("GET", "EIO=4".into(), 400, r#"{"code":0,"message":"Transport unknown"}"#),
        ("GET", "EIO=4&transport=carrier-pigeon".into(), 400, r#"{"code":0,"message":"Transport unknown"}"#),
        ("GET", "transport=polling".into(), 400, r#"{"code":5,"message":"Unsupported protocol version"}"#),
        ("GET", "EIO=3&transport=polling".into(), 400, r#"{"code":5,"message":"Unsupported protocol version"}"#),
        ("POST", "EIO=4&transport=polling".into(), 400, r#"{"code":2,"message":"Bad handshake method"}"#),
        ("PUT", "EIO=4&transport=polling".into(), 400, r#"{"code":2,"message":"Bad handshake method"}"#),
        ("GET", "EIO=4&transport=polling&sid=nope".into(), 400, r#"{"code":1,"message":"Session ID unknown"}"#),
        ("GET", "EIO=4&transport=polling&sid=AAAAAAAAAAAAAAAAAAAA".into(), 400, r#"{"code":1,"message":"Session ID unknown"}"#),
        ("PUT", format!("EIO=4&transport=polling{live_sid}"), 400, r#"{"code":3,"message":"Bad request"}"#),
        // A WebSocket request that is not an upgrade.
        ("GET", format!("EIO=4&transport=websocket{live_sid}"), 400, r#"{"code":3,"message":"Bad request"}"#),
        ("GET", "EIO=4&transport=websocket".into(), 400, r#"{"code":3,"message":"Bad request"}"#),
    ];
    for (method, query, status, body) in table {
        let answer = request(server.addr, method, &format!("/socket.io/?{query}"), &[], "").await;
        assert_eq!((answer.status, answer.body.as_str()), (status, body), "{method} ?{query}");
        assert_eq!(answer.headers["content-type"], "application/json");
    }
    // None of the refusals above touched the live session.
    assert!(live.is_alive().await);
}

/// Each payload, POSTed by a client that has joined `/`, closes its session.
#[tokio::test]
async fn protocol_violations_close_the_session() {
    let server = TestServer::start(SERVER).await;
    let errors_before = metric(server.addr, "roomd_protocol_errors_total").await;
    let placeholder = |n: u32| format!(r#"{{"_placeholder":true,"num":{n}}}"#);
    let table: Vec<(&str, String, u16)> = vec![
        ("unknown Engine.IO packet type", "abc".into(), 400),
        ("bad base64", "b!!!".into(), 400),
        ("one bad packet among good ones", "42[\"a\"]\x1ezzz".into(), 400),
        ("upgrade packet over polling", "5".into(), 200),
        ("unknown Socket.IO packet type", "4abc".into(), 200),
        ("event payload not an array", "42{}".into(), 200),
        ("invalid ack id", r#"42abc["message-with-ack",1]"#.into(), 200),
        ("reserved event name", r#"42["disconnect"]"#.into(), 200),
        ("DISCONNECT for a namespace not joined", "41/nowhere,".into(), 200),
        ("event for a namespace not joined", r#"42/nowhere,["x"]"#.into(), 200),
        ("CONNECT to a namespace already joined", "40".into(), 200),
        ("CONNECT_ERROR from a client", r#"44{"message":"x"}"#.into(), 200),
        ("too many attachments", r#"453-["x"]"#.into(), 200),
        ("text while attachments are expected", "451-[\"x\",{\"_placeholder\":true,\"num\":0}]\x1e42[\"y\"]".into(), 200),
        ("binary without a binary packet", "bAQID".into(), 200),
        ("placeholder without attachment", format!("451-[\"x\",{}]\x1ebAQID", placeholder(3)), 200),
        ("POST larger than max_payload", format!("4{}", "x".repeat(2000)), 413),
    ];
    for (what, payload, status) in table {
        let session = Polling::open(server.addr).await;
        assert_eq!(session.send("40").await.status, 200);
        assert!(session.poll().await.body.starts_with("40{\"sid\""), "{what}: connected");
        let answer = session.send(&payload).await;
        assert_eq!(answer.status, status, "{what}: {}", answer.body);
        assert!(session.is_gone().await, "{what}: session should be closed");
    }
    // Counters are process-wide and other tests run alongside: at least ours were counted.
    let errors_after = metric(server.addr, "roomd_protocol_errors_total").await;
    assert!(errors_after - errors_before >= 16, "{errors_before} → {errors_after}");
}

#[tokio::test]
async fn overlapping_polls_and_posts_close_the_session() {
    let server = TestServer::start(SERVER).await;

    let session = Polling::open(server.addr).await;
    let first = tokio::spawn({
        let (addr, path) = (session.addr, session.path());
        async move { get(addr, &path).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    let second = session.poll().await;
    assert_eq!(second.status, 400);
    let first = first.await.unwrap();
    assert_eq!((first.status, first.body.as_str()), (200, "1"), "the pending poll learns the session closed");
    assert!(session.is_gone().await);
}

#[tokio::test]
async fn an_aborted_poll_closes_the_session() {
    let server = TestServer::start(SERVER).await;
    let session = Polling::open(server.addr).await;
    let pending = tokio::spawn({
        let (addr, path) = (session.addr, session.path());
        async move { get(addr, &path).await }
    });
    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
    pending.abort();
    let _ = pending.await;
    // The server notices the closed connection and drops the session.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(5);
    while !session.is_gone().await {
        assert!(tokio::time::Instant::now() < deadline, "session outlived its aborted poll");
        tokio::time::sleep(std::time::Duration::from_millis(20)).await;
    }
}

#[tokio::test]
async fn websocket_violations_close_the_connection() {
    let server = TestServer::start(SERVER).await;
    let table: Vec<(&str, Vec<String>)> = vec![
        ("unknown packet type", vec!["abc".into()]),
        ("message larger than max_payload", vec![format!("4{}", "x".repeat(2000))]),
        ("invalid Socket.IO packet", vec!["42{}".into()]),
        ("CONNECT to a namespace already joined", vec!["40".into()]),
    ];
    for (what, frames) in table {
        let (mut ws, _) = Ws::socket(server.addr, "/").await;
        for frame in frames {
            ws.send(&frame).await;
        }
        ws.expect_closed().await;
        let _ = what;
    }
}

#[tokio::test]
async fn unknown_namespace_is_refused_without_closing() {
    let server = TestServer::start(SERVER).await;
    let (mut ws, _) = Ws::open(server.addr).await;
    ws.send("40/random").await;
    assert_eq!(ws.text().await, r#"44/random,{"message":"Invalid namespace"}"#);
    // The session is still usable.
    let sid = ws.connect_nsp("/").await;
    assert_eq!(sid.len(), 20);
}

#[tokio::test]
async fn an_oversized_websocket_message_is_closed_with_1009() {
    let server = TestServer::start(SERVER).await;
    let (mut ws, _) = Ws::socket(server.addr, "/").await;
    ws.send(&format!("4{}", "x".repeat(2000))).await;
    assert_eq!(ws.close_code().await, Some(1009), "close code: message too big");
}
