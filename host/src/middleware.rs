//! The middleware chain of a namespace: its plugins in configured order, then the relay.
//!
//! [`Chain`] is the namespace's handler. For a connection, every plugin decides in turn
//! (`allow` merges attached data, `reject` stops with CONNECT_ERROR); for an event, every
//! plugin decides in turn (`allow`, `modify` hands the rewritten event on, `reject` and
//! `handled` answer the client's ack and stop, `disconnect` stops); what survives reaches
//! the relay. Notifications (connected, room joined/left, disconnect) go to every plugin
//! that asked for them: a plugin is only ever called for what its `init` declared.
//!
//! A plugin that fails while deciding is turned into a verdict here, by its failure
//! policy: `fail-closed` refuses, `fail-open` carries on as if it had allowed. The chain
//! itself is swapped whole on reload: a call already under way finishes on the links it
//! started with.

use std::sync::{Arc, RwLock};

use bytes::Bytes;
use serde_json::{Map, Value, json};

use crate::plugin::{
    ConnectVerdict, EventVerdict, FailurePolicy, Hooks, PluginError, PluginSlot, Rejection, SocketInfo, WitEvent,
    WitHandshake, WitPayload,
};
use crate::relay::Relay;
use crate::socketio::packet::{event_array, is_reserved_event, split_event};
use crate::socketio::{ConnectError, ConnectRequest, DisconnectReason, Event, NamespaceHandler, Payload, Socket};

/// What a namespace runs: its plugins in order, then the relay.
pub struct Links {
    /// The plugins, in configured order.
    pub plugins: Vec<Arc<PluginSlot>>,
    /// What happens to an event every plugin allowed.
    pub relay: Relay,
}

/// A namespace's handler; see the module docs.
pub struct Chain {
    /// The current links. A std lock held only to clone the `Arc`; a reload replaces the
    /// whole value.
    links: RwLock<Arc<Links>>,
}

impl Chain {
    /// A chain running `links`.
    pub fn new(links: Links) -> Chain {
        Chain { links: RwLock::new(Arc::new(links)) }
    }

    /// Replaces the links; calls under way finish on the old ones.
    pub fn replace(&self, links: Links) {
        *self.links.write().unwrap_or_else(|e| e.into_inner()) = Arc::new(links);
    }

    /// The links now in force.
    pub fn links(&self) -> Arc<Links> {
        self.links.read().unwrap_or_else(|e| e.into_inner()).clone()
    }
}

/// What the client sees when a plugin failed under `fail-closed`.
fn failure_message(slot: &PluginSlot) -> String {
    format!("plugin {} failed", slot.name())
}

/// Parses a rejection's optional JSON data.
fn rejection_data(rejection: &Rejection) -> Result<Option<Value>, PluginError> {
    rejection
        .data
        .as_deref()
        .map(|text| serde_json::from_str(text).map_err(|_| PluginError::BadOutput("rejection data is not JSON".into())))
        .transpose()
}

/// An event in the form plugins see it: its wire text, and its attachments only if it
/// has any.
fn wit_event(event: &Event) -> WitEvent {
    let attachments = event.payload.attachments();
    WitEvent {
        text: event_array(&event.name, event.payload.json()),
        attachments: (!attachments.is_empty()).then(|| attachments.iter().map(|b| b.to_vec()).collect()),
        wants_ack: event.ack.is_some(),
    }
}

/// An event a plugin rewrote, checked like a client's: its name and arguments.
fn from_wit_event(event: &WitEvent) -> Result<(String, Payload), PluginError> {
    let (name, args) = split_event(&event.text)
        .map_err(|_| PluginError::BadOutput("a modified event must be a JSON array with the event name first".into()))?;
    if name.is_empty() || is_reserved_event(&name) {
        return Err(PluginError::BadOutput(format!("cannot rename an event to {name:?}")));
    }
    let attachments = event.attachments.iter().flatten().map(|b| Bytes::copy_from_slice(b)).collect();
    let payload = Payload::new(args, attachments).map_err(|e| PluginError::BadOutput(format!("payload: {e}")))?;
    Ok((name, payload))
}

/// A plugin's payload, checked like a client's.
fn from_wit_payload(payload: WitPayload) -> Result<Payload, PluginError> {
    let attachments = payload.attachments.into_iter().map(Bytes::from).collect();
    Payload::new(payload.args, attachments).map_err(|e| PluginError::BadOutput(format!("payload: {e}")))
}

fn ack(socket: &Socket, event: &Event, reply: Value) {
    if let Some(id) = event.ack {
        let _ = socket.ack(id, &Payload::from_values(&[reply]));
    }
}

/// How an event's trip through the plugins ended.
enum Outcome {
    /// Every plugin allowed it (possibly rewritten): on to the relay.
    Pass(Event),
    /// A plugin answered or refused it, or the socket is gone.
    Stop,
}

impl Chain {
    /// Tells every plugin about `socket` through `hook`. Notifications have no verdict: a
    /// failure is logged and counted by the slot, and the next plugin is told all the same.
    /// Only plugins that asked for `which` are told.
    fn notify(&self, socket: &Socket, which: Hooks, hook: impl Fn(&PluginSlot, &SocketInfo) -> Result<(), PluginError>) {
        let links = self.links();
        let mut me = None;
        for slot in links.plugins.iter().filter(|slot| slot.wants(which)) {
            let _ = hook(slot, me.get_or_insert_with(|| SocketInfo::of(socket)));
        }
    }

    fn run_event(&self, links: &Links, socket: &Socket, mut event: Event) -> Outcome {
        let namespace = socket.namespace();
        // Built for the first plugin that wants the event: an event no plugin asked for
        // is not copied at all.
        let mut me = None;
        let mut current = None;
        for slot in &links.plugins {
            if !slot.wants_event(&event.name) || slot.skips_events_of(socket.id()) {
                continue;
            }
            let me = me.get_or_insert_with(|| SocketInfo::of(socket));
            let current = current.get_or_insert_with(|| wit_event(&event));
            let verdict = slot.on_event(namespace, me, current);
            let verdict = verdict.and_then(|verdict| self.check_event_verdict(verdict));
            if !socket.connected() {
                return Outcome::Stop;
            }
            match verdict {
                Ok(Checked::Allow) => {}
                Ok(Checked::Modify(name, payload, wit)) => {
                    event.name = name;
                    event.payload = payload;
                    *current = wit;
                    current.wants_ack = event.ack.is_some();
                }
                Ok(Checked::Reject(message, data)) => {
                    let mut reply = json!({ "ok": false, "error": message });
                    if let Some(data) = data {
                        reply["data"] = data;
                    }
                    ack(socket, &event, reply);
                    return Outcome::Stop;
                }
                Ok(Checked::Handled(payload)) => {
                    if let Some(id) = event.ack {
                        let _ = socket.ack(id, &payload);
                    }
                    return Outcome::Stop;
                }
                Ok(Checked::Disconnect) => {
                    socket.disconnect();
                    return Outcome::Stop;
                }
                Err(error) => {
                    if let PluginError::BadOutput(_) = error {
                        slot.failed(error);
                    }
                    if slot.spec().on_error == FailurePolicy::FailClosed {
                        ack(socket, &event, json!({ "ok": false, "error": failure_message(slot) }));
                        return Outcome::Stop;
                    }
                }
            }
        }
        Outcome::Pass(event)
    }

    fn check_event_verdict(&self, verdict: EventVerdict) -> Result<Checked, PluginError> {
        Ok(match verdict {
            EventVerdict::Allow => Checked::Allow,
            EventVerdict::Modify(event) => {
                let (name, payload) = from_wit_event(&event)?;
                Checked::Modify(name, payload, event)
            }
            EventVerdict::Reject(rejection) => {
                let data = rejection_data(&rejection)?;
                Checked::Reject(rejection.message, data)
            }
            EventVerdict::Handled(payload) => Checked::Handled(from_wit_payload(payload)?),
            EventVerdict::Disconnect => Checked::Disconnect,
        })
    }
}

/// An event verdict the host has checked.
enum Checked {
    Allow,
    Modify(String, Payload, WitEvent),
    Reject(String, Option<Value>),
    Handled(Payload),
    Disconnect,
}

impl NamespaceHandler for Chain {
    fn authorize(&self, request: &ConnectRequest<'_>) -> Result<Option<String>, ConnectError> {
        let links = self.links();
        if !links.plugins.iter().any(|slot| slot.wants(Hooks::CONNECT)) {
            return Ok(None);
        }
        let handshake = &request.handshake;
        let wit = WitHandshake {
            namespace: request.namespace.name().to_owned(),
            auth: request.auth.unwrap_or("{}").to_owned(),
            query: handshake.query.clone(),
            headers: handshake.headers.iter().map(|(name, value)| (name.to_owned(), value.to_owned())).collect(),
            address: handshake.remote.map(|a| a.to_string()),
        };
        let mut data = Map::new();
        for slot in links.plugins.iter().filter(|slot| slot.wants(Hooks::CONNECT)) {
            let verdict = slot.on_connect(request.namespace, &wit);
            let checked = verdict.and_then(|verdict| match verdict {
                ConnectVerdict::Allow(None) => Ok(None),
                ConnectVerdict::Allow(Some(text)) => match serde_json::from_str(&text) {
                    Ok(Value::Object(attached)) => {
                        data.extend(attached);
                        Ok(None)
                    }
                    _ => Err(slot.failed(PluginError::BadOutput("data attached at connect must be a JSON object".into()))),
                },
                ConnectVerdict::Reject(rejection) => {
                    let data = rejection_data(&rejection).map_err(|e| slot.failed(e))?;
                    Ok(Some(ConnectError { message: rejection.message, data }))
                }
            });
            match checked {
                Ok(None) => {}
                Ok(Some(refused)) => return Err(refused),
                Err(_) if slot.spec().on_error == FailurePolicy::FailOpen => {}
                Err(_) => {
                    return Err(ConnectError { message: failure_message(slot), data: Some(json!({ "plugin": slot.name() })) });
                }
            }
        }
        Ok((!data.is_empty()).then(|| Value::Object(data).to_string()))
    }

    fn on_connect(&self, socket: &Socket) {
        self.notify(socket, Hooks::CONNECTED, |slot, me| slot.on_connected(socket.namespace(), me));
        self.links().relay.on_connect(socket);
    }

    fn on_event(&self, socket: &Socket, event: Event) {
        let links = self.links();
        let event = if links.plugins.is_empty() {
            event
        } else {
            match self.run_event(&links, socket, event) {
                Outcome::Pass(event) => event,
                Outcome::Stop => return,
            }
        };
        links.relay.on_event(socket, event);
    }

    fn on_join(&self, socket: &Socket, room: &str) {
        self.notify(socket, Hooks::ROOM_JOINED, |slot, me| slot.on_room_joined(socket.namespace(), me, room));
    }

    fn on_leave(&self, socket: &Socket, room: &str) {
        self.notify(socket, Hooks::ROOM_LEFT, |slot, me| slot.on_room_left(socket.namespace(), me, room));
    }

    fn on_disconnect(&self, socket: &Socket, reason: DisconnectReason) {
        self.notify(socket, Hooks::DISCONNECT, |slot, me| slot.on_disconnect(socket.namespace(), me, reason.as_str()));
        for slot in &self.links().plugins {
            slot.forget(socket.id());
        }
    }
}
