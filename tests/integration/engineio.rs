//! Engine.IO behaviour beyond the official suite: heartbeat, upgrade, origins and CORS,
//! shutdown, health and metrics.

use std::time::Duration;

use crate::support::{Polling, Read, TestServer, Ws, get, request};

const FAST: &str = "[engine]\nping_interval_ms = 100\nping_timeout_ms = 100\n";

#[tokio::test]
async fn a_client_that_answers_pings_stays_and_one_that_does_not_is_dropped() {
    let server = TestServer::start(FAST).await;
    let (mut answering, _) = Ws::socket(server.addr, "/").await;
    let (mut silent, _) = Ws::open(server.addr).await;
    // `expect_silence` answers pings; several intervals pass.
    answering.expect_silence(Duration::from_millis(500)).await;
    answering.send(r#"42["still","here"]"#).await;
    // The silent client got a ping, did not answer, and was closed.
    assert_eq!(silent.stream_next_text().await, Some("2".to_owned()));
    assert!(silent.stream_next_text().await.is_none(), "closed after the ping timeout");
}

#[tokio::test]
async fn polling_session_upgrades_and_keeps_its_socket() {
    let server = TestServer::start("").await;
    let session = Polling::open(server.addr).await;
    assert_eq!(session.send("40").await.status, 200);
    let connect = session.poll().await.body;
    assert!(connect.starts_with(r#"40{"sid":""#), "{connect}");

    let mut ws = Ws::connect(server.addr, &format!("&sid={}", session.sid)).await;
    ws.send("2probe").await;
    assert_eq!(ws.text().await, "3probe");
    assert_eq!(session.poll().await.body, "6", "the poll is ended with a noop");
    ws.send("5").await;
    // The Socket.IO socket carried over: events now flow on the WebSocket.
    let (mut peer, _) = Ws::socket(server.addr, "/").await;
    peer.send(r#"42["hello",1]"#).await;
    assert_eq!(ws.text().await, r#"42["hello",1]"#);
    // Polling is no longer accepted for this session, but the session lives on.
    assert_eq!(session.poll().await.status, 400);
    ws.send(r#"42["back"]"#).await;
    assert_eq!(peer.text().await, r#"42["back"]"#);
}

#[tokio::test]
async fn an_upgrade_that_never_completes_leaves_polling_working() {
    let server = TestServer::start("[engine]\nupgrade_timeout_ms = 100\n").await;
    let session = Polling::open(server.addr).await;
    let mut ws = Ws::connect(server.addr, &format!("&sid={}", session.sid)).await;
    ws.send("2probe").await;
    assert_eq!(ws.text().await, "3probe");
    ws.expect_closed().await;
    assert_eq!(session.poll().await.body, "6");
    assert_eq!(session.send("40").await.status, 200);
    assert!(session.poll().await.body.starts_with("40{"));
}

#[tokio::test]
async fn binary_messages_travel_base64_in_polling_payloads() {
    let server = TestServer::start("").await;
    let (mut ws, _) = Ws::socket(server.addr, "/").await;
    let session = Polling::open(server.addr).await;
    session.send("40").await;
    session.poll().await;
    let answer = session.send("451-[\"bin\",{\"_placeholder\":true,\"num\":0}]\x1ebAQID").await;
    assert_eq!(answer.body, "ok");
    assert_eq!(ws.text().await, r#"451-["bin",{"_placeholder":true,"num":0}]"#);
    assert_eq!(ws.read().await, Read::Binary(vec![1, 2, 3]));
    ws.send(r#"451-["back",{"_placeholder":true,"num":0}]"#).await;
    ws.send_binary(&[9, 8]).await;
    assert_eq!(session.poll().await.body, "451-[\"back\",{\"_placeholder\":true,\"num\":0}]\x1ebCQg=");
}

#[tokio::test]
async fn origins_outside_the_allow_list_are_forbidden_and_cors_is_answered() {
    let server = TestServer::start("[engine]\nallowed_origins = [\"http://good.test\"]\n").await;
    let path = "/socket.io/?EIO=4&transport=polling";
    let evil = request(server.addr, "GET", path, &[("origin", "http://evil.test")], "").await;
    assert_eq!((evil.status, evil.body.as_str()), (403, r#"{"code":4,"message":"Forbidden"}"#));
    let good = request(server.addr, "GET", path, &[("origin", "http://good.test")], "").await;
    assert_eq!(good.status, 200);
    assert_eq!(good.headers["access-control-allow-origin"], "http://good.test");
    assert_eq!(good.headers["access-control-allow-credentials"], "true");
    let preflight = request(
        server.addr,
        "OPTIONS",
        path,
        &[("origin", "http://good.test"), ("access-control-request-headers", "content-type")],
        "",
    )
    .await;
    assert_eq!(preflight.status, 204);
    assert_eq!(preflight.headers["access-control-allow-headers"], "content-type");
    // Non-browser clients send no Origin and are not affected.
    assert_eq!(get(server.addr, path).await.status, 200);
}

#[tokio::test]
async fn disabled_transports_are_unknown() {
    let server = TestServer::start("[engine]\ntransports = [\"websocket\"]\n").await;
    let answer = get(server.addr, "/socket.io/?EIO=4&transport=polling").await;
    assert_eq!((answer.status, answer.body.as_str()), (400, r#"{"code":0,"message":"Transport unknown"}"#));
    let (_, open) = Ws::open(server.addr).await;
    assert!(open.contains(r#""upgrades":[]"#), "{open}");
}

#[tokio::test]
async fn shutdown_closes_transports_so_clients_reconnect() {
    let server = TestServer::start("").await;
    let (mut ws, _) = Ws::socket(server.addr, "/").await;
    let session = Polling::open(server.addr).await;
    let pending = tokio::spawn({
        let (addr, path) = (session.addr, session.path());
        async move { get(addr, &path).await }
    });
    tokio::time::sleep(Duration::from_millis(50)).await;
    let addr = server.addr;
    server.shutdown().await;
    // A WebSocket close, not a Socket.IO DISCONNECT (which would stop the client from
    // reconnecting).
    assert_eq!(ws.read().await, Read::Closed);
    assert_eq!(pending.await.unwrap().body, "1");
    assert!(tokio::net::TcpStream::connect(addr).await.is_err(), "listener closed");
}

#[tokio::test]
async fn health_and_metrics_endpoints() {
    let server = TestServer::start("").await;
    let (_ws, _) = Ws::socket(server.addr, "/").await;
    assert_eq!(get(server.addr, "/healthz").await.body, "ok\n");
    let metrics = get(server.addr, "/metrics").await.body;
    assert!(metrics.contains("# TYPE roomd_sessions gauge"), "{metrics}");
    assert!(metrics.contains("roomd_sessions_opened_total"), "{metrics}");
    assert_eq!(get(server.addr, "/nope").await.status, 404);
}

#[tokio::test]
async fn a_close_packet_over_polling_ends_the_session_at_the_next_poll_or_after_the_grace() {
    let server = TestServer::start("").await;
    // No poll pending: the next poll is answered with a noop, then the session is gone.
    let session = Polling::open(server.addr).await;
    assert_eq!(session.send("1").await.status, 200);
    assert_eq!(session.poll().await.body, "6");
    assert!(session.is_gone().await);
    // No poll ever comes: the session ends after the grace period (1 s).
    let session = Polling::open(server.addr).await;
    assert_eq!(session.send("1").await.status, 200);
    tokio::time::sleep(Duration::from_millis(1200)).await;
    assert!(session.is_gone().await);
}
