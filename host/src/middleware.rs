//! The middleware chain of a namespace: its plugins in configured order, then the relay.
//!
//! [`Chain`] is the namespace's handler. For a connection, every plugin decides in turn
//! (`allow` merges attached data, `reject` stops with CONNECT_ERROR); for an event, every
//! plugin decides in turn (`allow`, `modify` hands the rewritten event on, `reject` and
//! `handled` answer the client's ack and stop, `disconnect` stops); what survives reaches
//! the relay. Events of one socket that arrived together go through the chain together:
//! each plugin is entered once for all of them it wants (`on-events`), every event still
//! gets its own verdict, and the order is kept. Notifications (connected, room
//! joined/left, disconnect) go to every plugin that asked for them: a plugin is only ever
//! called for what its `init` declared.
//!
//! When many sockets send, the events a connection reads are not decided on its task at
//! once: they wait a moment on the chain's stage ([`Stage`]), whose task then runs the
//! plugins over the bursts of every socket that read meanwhile, back to back while the
//! plugins' code is warm, and relays them all. The connection settles what it put off
//! before it acts on anything else, so the order a client sent things in is kept.
//!
//! A plugin that fails while deciding is turned into a verdict here, by its failure
//! policy: `fail-closed` refuses, `fail-open` carries on as if it had allowed. The chain
//! itself is swapped whole on reload: a call already under way finishes on the links it
//! started with.

use std::cell::Cell;
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, RwLock, Weak};

use bytes::Bytes;
use serde_json::{Map, Value, json};
use smallvec::{SmallVec, smallvec};
use tokio::sync::Notify;

use crate::plugin::{
    ConnectVerdict, EventVerdict, FailurePolicy, Hooks, PluginError, PluginSlot, Rejection, SocketInfo, WitBurst,
    WitBurstEvent, WitEvent, WitHandshake, WitPayload,
};
use crate::relay::Relay;
use crate::sid::{Sid, SidHasher};
use crate::socketio::packet::{event_array, is_reserved_event, push_event_array, split_event};
use crate::socketio::{
    ConnectError, ConnectRequest, DisconnectReason, Event, Namespace, NamespaceHandler, Payload, Socket, Staged,
};

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
    /// Where bursts wait to be decided together.
    stage: Arc<Stage>,
}

impl Chain {
    /// A chain running `links`.
    pub fn new(links: Links) -> Chain {
        Chain { links: RwLock::new(Arc::new(links)), stage: Arc::default() }
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

impl Drop for Chain {
    fn drop(&mut self) {
        // The stage's task finds the stage gone and ends.
        self.stage.wake.notify_one();
    }
}

/// Bursts put off to be decided together ([`NamespaceHandler::stage_events`]). A call
/// into a plugin costs several times more when the relay has pushed the plugin's code
/// and data out of the caches since the call before (measured: a second no-op plugin
/// right after the first costs a fifth of what the first does). So the stage's task
/// waits until the sockets whose reads are ready have put theirs off, runs the plugins
/// over every waiting burst back to back, then relays them all.
#[derive(Default)]
struct Stage {
    /// Bursts waiting, in the order they were put off. A std lock, held to push or take.
    waiting: Mutex<Vec<Arc<Held>>>,
    wake: Arc<Notify>,
    /// Whether the task has been started.
    running: AtomicBool,
    /// Whose burst came last (a hash of the socket id).
    last_sender: AtomicU64,
}

impl Stage {
    /// Puts `socket`'s burst off to be decided by `links`, if that pays: when other
    /// sockets' bursts come in between (chat: many senders), or wait already. When the
    /// bursts come from one socket (a lone publisher: fan-out), waiting would only delay
    /// the next, and its relay would go out in smaller writes (measured: fan-out to 1,000
    /// −14 % with every burst staged). Hands the events back to be decided at once.
    fn hold(
        self: &Arc<Stage>,
        socket: &Socket,
        events: SmallVec<[Event; 1]>,
        links: impl FnOnce() -> Arc<Links>,
    ) -> Result<Arc<Held>, SmallVec<[Event; 1]>> {
        let another = self.another_sender(socket.id());
        let mut waiting = self.waiting.lock().unwrap_or_else(|e| e.into_inner());
        if !another && waiting.is_empty() || !self.start() {
            return Err(events);
        }
        let flight = events.into_iter().map(|event| InFlight { event, wit: None }).collect();
        let held = Arc::new(Held { links: links(), socket: socket.clone(), step: Mutex::new(Step::Waiting(flight)) });
        waiting.push(held.clone());
        drop(waiting);
        self.wake.notify_one();
        Ok(held)
    }

    /// Whether the burst before `sender`'s came from another socket.
    fn another_sender(&self, sender: Sid) -> bool {
        let mut hasher = SidHasher::default();
        sender.hash(&mut hasher);
        let sender = hasher.finish();
        self.last_sender.swap(sender, Ordering::Relaxed) != sender
    }

    /// Starts the task on first use; false where there is no runtime to run it on.
    fn start(self: &Arc<Stage>) -> bool {
        if self.running.load(Ordering::Acquire) {
            return true;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else { return false };
        if !self.running.swap(true, Ordering::AcqRel) {
            runtime.spawn(Stage::run(Arc::downgrade(self), self.wake.clone()));
        }
        true
    }

    async fn run(stage: Weak<Stage>, wake: Arc<Notify>) {
        // The bursts being worked on; it and `waiting` trade places, keeping their room.
        let mut batch = Vec::new();
        loop {
            wake.notified().await;
            // Behind the tasks already ready to run: their sockets put their bursts off
            // meanwhile.
            tokio::task::yield_now().await;
            let Some(stage) = stage.upgrade() else { return };
            std::mem::swap(&mut batch, &mut *stage.waiting.lock().unwrap_or_else(|e| e.into_inner()));
            drop(stage);
            for held in &batch {
                shielded(|| held.decide());
            }
            for held in &batch {
                shielded(|| held.settle());
            }
            batch.clear();
        }
    }
}

/// Runs `work` on the stage so that a bug in it costs one burst, not the stage: a panic
/// is logged, and the burst's events are lost.
fn shielded(work: impl FnOnce()) {
    if std::panic::catch_unwind(std::panic::AssertUnwindSafe(work)).is_err() {
        tracing::error!("working on a burst panicked; its events are lost");
    }
}

/// A burst put off: the links in force when it arrived, its socket, and how far it has
/// come. Its lock is held while it is worked on, so whoever comes second finds it done.
struct Held {
    links: Arc<Links>,
    socket: Socket,
    step: Mutex<Step>,
}

enum Step {
    Waiting(Flight),
    /// Through the plugins; `true` if one asked for the socket to be disconnected.
    Decided(Flight, bool),
    Done,
}

impl Held {
    fn lock(&self) -> MutexGuard<'_, Step> {
        self.step.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Runs the plugins over the burst, if no one has yet.
    fn decide(&self) {
        let mut step = self.lock();
        if let Step::Waiting(mut flight) = std::mem::replace(&mut *step, Step::Done) {
            let disconnect = self.links.run_events(&self.socket, &mut flight);
            *step = Step::Decided(flight, disconnect);
        }
    }
}

impl Staged for Held {
    fn settle(&self) {
        let mut step = self.lock();
        match std::mem::replace(&mut *step, Step::Done) {
            Step::Waiting(flight) => self.links.pass(&self.socket, flight),
            Step::Decided(flight, disconnect) => self.links.deliver(&self.socket, flight, disconnect),
            Step::Done => {}
        }
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
    WitEvent {
        text: event_array(&event.name, event.payload.json()),
        attachments: wit_attachments(event),
        wants_ack: event.ack.is_some(),
    }
}

/// An event's attachments as the contract carries them: `None` when it has none.
fn wit_attachments(event: &Event) -> Option<Vec<Vec<u8>>> {
    let attachments = event.payload.attachments();
    (!attachments.is_empty()).then(|| attachments.iter().map(|b| b.to_vec()).collect())
}

/// Runs `call` with the events of `flight` at `wanted` as the contract's burst (see
/// [`burst`]). The burst's texts are written into a string the thread keeps, so a burst
/// costs no large allocation once that string has grown to the size bursts come in; the
/// rest of the burst (attachments among it) is dropped after the call.
fn with_burst<R>(flight: &Flight, wanted: &[usize], call: impl FnOnce(&WitBurst) -> R) -> R {
    /// A string grown past this (a burst of long messages) is not kept.
    const KEPT: usize = 64 * 1024;
    thread_local! {
        static TEXTS: Cell<String> = const { Cell::new(String::new()) };
    }
    // Taken, not borrowed: a call made meanwhile on this thread would find an empty one.
    let burst = burst(flight, wanted, TEXTS.take());
    let answer = call(&burst);
    let mut texts = burst.texts;
    if texts.capacity() <= KEPT {
        texts.clear();
        TEXTS.set(texts);
    }
    answer
}

/// The events of `flight` at `wanted` as the contract's burst: their wire texts written
/// one after another into one string (`texts`, emptied), which crosses into the plugin in
/// one copy. An event an earlier plugin rewrote is shown as rewritten.
fn burst(flight: &Flight, wanted: &[usize], mut texts: String) -> WitBurst {
    texts.clear();
    texts.reserve(wanted.iter().map(|&i| flight[i].event.name.len() + flight[i].event.payload.json().len() + 4).sum());
    let events = wanted
        .iter()
        .map(|&i| {
            let InFlight { event, wit } = &flight[i];
            let attachments = match wit {
                Some(wit) => {
                    texts.push_str(&wit.text);
                    wit.attachments.clone()
                }
                None => {
                    push_event_array(&mut texts, &event.name, event.payload.json());
                    wit_attachments(event)
                }
            };
            // At most `MAX_EVENTS_PER_CALL` events of at most `engine.max_payload_bytes`
            // each: far below 4 GiB.
            let end = u32::try_from(texts.len()).unwrap_or(u32::MAX);
            WitBurstEvent { end, attachments, wants_ack: event.ack.is_some() }
        })
        .collect();
    WitBurst { texts, events }
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

/// Most events of a burst one call into a plugin carries: as many as one WebSocket read
/// hands on (under load about half of a chat run's events come in bursts of more than
/// 16, counted). A call runs under one deadline (`timeout_ms`), which so bounds how long a
/// burst can hold the connection's task however many events a polling request carries.
pub const MAX_EVENTS_PER_CALL: usize = crate::engineio::MAX_READ_BATCH;

/// An event on its way through the plugins, with the form plugins see it in once one
/// has wanted it.
struct InFlight {
    event: Event,
    wit: Option<WitEvent>,
}

/// A call's answer: one verdict per event it carried, in order, or the call's failure.
type Answer = Result<SmallVec<[EventVerdict; 1]>, PluginError>;

/// The events of one socket on their way through the plugins. Inline room for one: most
/// arrive alone.
type Flight = SmallVec<[InFlight; 1]>;

/// What a plugin's verdict means for an event's trip.
enum Fate {
    /// On to the next plugin, then the relay.
    GoesOn,
    /// Answered or refused: it goes no further.
    Stops,
    /// The socket is to be disconnected: this event and the socket's later ones go no
    /// further.
    Disconnects,
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

}

impl Links {
    /// Takes events of one socket through the plugins in order: each plugin is entered
    /// once for all the events it wants (`on-event` for one, `on-events` for several).
    /// What survives stays in `flight`, rewritten where a plugin rewrote it. Returns
    /// whether a plugin asked for the socket to be disconnected: the events after the one
    /// it was asked on are dropped, those before go on.
    fn run_events(&self, socket: &Socket, flight: &mut Flight) -> bool {
        let namespace = socket.namespace();
        // Built for the first plugin that wants an event: events no plugin asked for are
        // not copied at all.
        let mut me = None;
        let mut disconnect = false;
        for slot in &self.plugins {
            if flight.is_empty() {
                break;
            }
            if slot.skips_events_of(socket.id()) {
                continue;
            }
            // Inline room for a typical burst under load (about 11 events).
            let mut wanted: SmallVec<[usize; 16]> = SmallVec::new();
            slot.wanted_events(flight.iter().map(|f| f.event.name.as_str()), |i| wanted.push(i));
            if wanted.is_empty() {
                continue;
            }
            let me = me.get_or_insert_with(|| SocketInfo::of(socket));
            // A call's deadline covers all its events: a long burst is asked about in
            // parts, each with a deadline of its own.
            let mut answers: SmallVec<[Answer; 1]> = SmallVec::new();
            for part in wanted.chunks(MAX_EVENTS_PER_CALL) {
                let answer = self.ask(slot, namespace, me, flight, part);
                let asked_to_disconnect = answer.as_ref().is_ok_and(|verdicts| verdicts.iter().any(|v| matches!(v, EventVerdict::Disconnect)));
                answers.push(answer);
                if asked_to_disconnect || !socket.connected() {
                    break;
                }
            }
            // Gone during a call (the plugin had roomd disconnect it): nothing of the
            // burst goes further.
            if !socket.connected() {
                flight.clear();
                return false;
            }
            let mut dropped: SmallVec<[usize; 4]> = SmallVec::new();
            'settle: for (part, answer) in wanted.chunks(MAX_EVENTS_PER_CALL).zip(answers) {
                let mut verdicts = match answer {
                    // Most events are allowed as they are: nothing to carry out.
                    Ok(verdicts) if verdicts.iter().all(|v| matches!(v, EventVerdict::Allow)) => continue,
                    Ok(verdicts) => Ok(verdicts.into_iter()),
                    Err(error) => Err(error),
                };
                for &i in part {
                    let verdict = match &mut verdicts {
                        // `ask` answers one verdict per event or fails the call.
                        Ok(verdicts) => match verdicts.next() {
                            Some(verdict) => Ok(verdict),
                            None => break,
                        },
                        Err(error) => Err(error.clone()),
                    };
                    match self.settle(slot, socket, &mut flight[i], verdict) {
                        Fate::GoesOn => {}
                        Fate::Stops => dropped.push(i),
                        Fate::Disconnects => {
                            disconnect = true;
                            flight.truncate(i);
                            break 'settle;
                        }
                    }
                }
            }
            // In order and all before a disconnect's cut, so removable back to front.
            for &i in dropped.iter().rev() {
                flight.remove(i);
            }
        }
        disconnect
    }

    /// Carries out `slot`'s verdict on one event: rewrites it, or answers the client's ack
    /// and stops it, or applies the failure policy. A failed call was counted by the slot;
    /// an answer it cannot use is counted here.
    fn settle(&self, slot: &PluginSlot, socket: &Socket, in_flight: &mut InFlight, verdict: Result<EventVerdict, PluginError>) -> Fate {
        match verdict.and_then(|verdict| self.check_event_verdict(verdict).map_err(|error| slot.failed(error))) {
            Ok(Checked::Allow) => Fate::GoesOn,
            Ok(Checked::Modify(name, payload, mut wit)) => {
                in_flight.event.name = name;
                in_flight.event.payload = payload;
                wit.wants_ack = in_flight.event.ack.is_some();
                in_flight.wit = Some(wit);
                Fate::GoesOn
            }
            Ok(Checked::Reject(message, data)) => {
                let mut reply = json!({ "ok": false, "error": message });
                if let Some(data) = data {
                    reply["data"] = data;
                }
                ack(socket, &in_flight.event, reply);
                Fate::Stops
            }
            Ok(Checked::Handled(payload)) => {
                if let Some(id) = in_flight.event.ack {
                    let _ = socket.ack(id, &payload);
                }
                Fate::Stops
            }
            Ok(Checked::Disconnect) => Fate::Disconnects,
            Err(_) if slot.spec().on_error == FailurePolicy::FailOpen => Fate::GoesOn,
            Err(_) => {
                ack(socket, &in_flight.event, json!({ "ok": false, "error": failure_message(slot) }));
                Fate::Stops
            }
        }
    }

    /// One call into `slot` for the events of `flight` at `wanted`: their verdicts in the
    /// same order, or the call's failure.
    fn ask(&self, slot: &PluginSlot, namespace: &Namespace, me: &SocketInfo, flight: &mut Flight, wanted: &[usize]) -> Answer {
        if let [only] = *wanted {
            let in_flight = &mut flight[only];
            let wit = in_flight.wit.get_or_insert_with(|| wit_event(&in_flight.event));
            return slot.on_event(namespace, me, wit).map(|verdict| smallvec![verdict]);
        }
        let verdicts = with_burst(flight, wanted, |burst| slot.on_events(namespace, me, burst))?;
        if verdicts.len() != wanted.len() {
            let error = format!("{} verdicts for {} events", verdicts.len(), wanted.len());
            return Err(slot.failed(PluginError::BadOutput(error)));
        }
        Ok(SmallVec::from_vec(verdicts))
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

impl Links {
    /// The events through the plugins, then what survives to the relay, in order.
    fn pass(&self, socket: &Socket, mut flight: Flight) {
        let disconnect = self.run_events(socket, &mut flight);
        self.deliver(socket, flight, disconnect);
    }

    /// What survived the plugins to the relay, in order; then the disconnect a plugin
    /// asked for, if one did.
    fn deliver(&self, socket: &Socket, flight: Flight, disconnect: bool) {
        for in_flight in flight {
            // An event the relay handled may have ended the socket (a plugin told of a
            // join disconnects it): what follows is not its any more.
            if !socket.connected() {
                return;
            }
            self.relay.on_event(socket, in_flight.event);
        }
        if disconnect {
            socket.disconnect();
        }
    }
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
        if links.plugins.is_empty() {
            return links.relay.on_event(socket, event);
        }
        links.pass(socket, smallvec![InFlight { event, wit: None }]);
    }

    fn on_events(&self, socket: &Socket, events: Vec<Event>) {
        let links = self.links();
        if links.plugins.is_empty() {
            return links.relay.on_events(socket, events);
        }
        links.pass(socket, events.into_iter().map(|event| InFlight { event, wit: None }).collect());
    }

    fn stage_events(&self, socket: &Socket, events: SmallVec<[Event; 1]>) -> Result<Arc<dyn Staged>, SmallVec<[Event; 1]>> {
        self.stage.hold(socket, events, || self.links()).map(|held| held as Arc<dyn Staged>)
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_burst_waits_on_the_stage_only_after_another_sockets() {
        let stage = Stage::default();
        let (a, b) = (Sid::random(), Sid::random());
        assert!(stage.another_sender(a), "the first burst");
        assert!(!stage.another_sender(a), "a lone sender's next burst is decided at once");
        assert!(!stage.another_sender(a));
        assert!(stage.another_sender(b));
        assert!(stage.another_sender(a), "senders taking turns wait on the stage");
    }

    fn flight(texts: &[&str]) -> Flight {
        let event = |text: &&str| Event { name: "chat".into(), payload: Payload::from_values(&[json!(text)]), ack: None };
        texts.iter().map(|text| InFlight { event: event(text), wit: None }).collect()
    }

    #[test]
    fn a_burst_is_built_in_a_buffer_the_thread_keeps_unless_it_grew_too_large() {
        let small = flight(&["a", "bc"]);
        // What an earlier test on this thread left is not this test's.
        with_burst(&small, &[0], |_| ());
        let first = with_burst(&small, &[0, 1], |burst| {
            assert_eq!(burst.texts, r#"["chat","a"]["chat","bc"]"#);
            assert_eq!(burst.events.iter().map(|e| e.end).collect::<Vec<_>>(), [12, 25]);
            burst.texts.as_ptr()
        });
        let again = with_burst(&small, &[1], |burst| {
            assert_eq!(burst.texts, r#"["chat","bc"]"#, "what the last burst held is gone");
            assert_eq!(burst.events.len(), 1);
            burst.texts.as_ptr()
        });
        assert_eq!(first, again, "the same buffer, no allocation");
        let long = "x".repeat(100 * 1024);
        let large = flight(&[&long]);
        with_burst(&large, &[0], |burst| assert!(burst.texts.len() > 100 * 1024));
        with_burst(&small, &[0], |burst| assert!(burst.texts.capacity() < 64 * 1024, "a buffer that grew past the limit is not kept"));
    }

    #[test]
    fn a_panic_while_working_on_a_burst_does_not_stop_the_stage() {
        let mut after = false;
        shielded(|| panic!("a bug"));
        shielded(|| after = true);
        assert!(after);
    }
}
