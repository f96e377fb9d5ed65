//! Every limit trips: the outbound queue (slow consumers), the connect timeout, the
//! server→client acknowledgement timeout.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use roomd::socketio::{AckError, NamespaceHandler, Payload, Socket, SocketIo, SocketIoConfig};

use crate::support::{Polling, TestServer, Ws, metric};

#[tokio::test]
async fn a_slow_consumer_is_disconnected_while_others_get_everything() {
    let server = TestServer::start("[engine]\noutbound_queue = 8\n").await;
    let slow_before = metric(server.addr, "roomd_slow_consumers_total").await;
    // A polling client that joins and then never polls again.
    let slow = Polling::open(server.addr).await;
    slow.send("40").await;
    slow.poll().await;
    let (mut fast, _) = Ws::socket(server.addr, "/").await;
    let (mut sender, _) = Ws::socket(server.addr, "/").await;
    // Bursts of 4 stay below the queue's 8 for a client that keeps reading; the one
    // that never reads overflows.
    for burst in 0..5 {
        for i in burst * 4..burst * 4 + 4 {
            sender.send(&format!(r#"42["n",{i}]"#)).await;
        }
        for i in burst * 4..burst * 4 + 4 {
            assert_eq!(fast.text().await, format!(r#"42["n",{i}]"#), "nothing lost, in order");
        }
    }
    assert!(slow.is_gone().await, "the slow consumer's session is closed");
    assert!(metric(server.addr, "roomd_slow_consumers_total").await > slow_before);
}

#[tokio::test]
async fn a_session_that_joins_no_namespace_in_time_is_closed() {
    let server = TestServer::start("[socketio]\nconnect_timeout_ms = 150\n").await;
    let (mut idle, _) = Ws::open(server.addr).await;
    let (mut joined, _) = Ws::socket(server.addr, "/").await;
    let joined_at = tokio::time::Instant::now();
    idle.expect_closed().await;
    // Leaving the last namespace later does not bring the timeout back. "Later" is after
    // `joined`'s own timeout has looked (it opened after `idle`, so its check comes last):
    // leaving before it looks would be leaving in time.
    tokio::time::sleep_until(joined_at + Duration::from_millis(300)).await;
    joined.send("41").await;
    joined.expect_silence(Duration::from_millis(400)).await;
}

/// Records the outcome of an ack the server waits for on connect.
struct AskOnConnect {
    outcome: Arc<Mutex<Vec<Result<String, AckError>>>>,
}

impl NamespaceHandler for AskOnConnect {
    fn on_connect(&self, socket: &Socket) {
        let socket = socket.clone();
        let outcome = self.outcome.clone();
        tokio::spawn(async move {
            let result = socket.emit_with_ack("question", &Payload::from_json("[1]").unwrap(), Duration::from_millis(300)).await;
            outcome.lock().unwrap().push(result.map(|p| p.json().to_owned()));
        });
    }
}

#[tokio::test]
async fn server_to_client_acks_resolve_or_time_out() {
    let outcome = Arc::new(Mutex::new(Vec::new()));
    let io = SocketIo::builder()
        .config(SocketIoConfig::default())
        .namespace("/", AskOnConnect { outcome: outcome.clone() })
        .build();
    let server = TestServer::serve(io, "/socket.io/").await;

    let (mut answering, _) = Ws::socket(server.addr, "/").await;
    assert_eq!(answering.text().await, r#"420["question",1]"#);
    answering.send(r#"430["answer",{"n":42}]"#).await;

    let (mut silent, _) = Ws::socket(server.addr, "/").await;
    assert_eq!(silent.text().await, r#"420["question",1]"#);

    let deadline = tokio::time::Instant::now() + Duration::from_secs(3);
    while outcome.lock().unwrap().len() < 2 {
        assert!(tokio::time::Instant::now() < deadline, "both acks settle");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let outcome = outcome.lock().unwrap();
    assert_eq!(outcome[0], Ok(r#"["answer",{"n":42}]"#.to_owned()));
    assert_eq!(outcome[1], Err(AckError::Timeout));
}
