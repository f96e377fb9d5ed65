//! What a hook is given and what it answers, in the SDK's own types: the socket it is
//! about, the event, the event verdict. They convert from and to the contract's forms
//! here, and nowhere else.
//!
//! The contract keeps a call cheap: the socket is lent as a handle whose fields are read
//! on first use, and an event crosses as one wire text (`["name",...arguments]`) with its
//! attachments only when it has any. [`Socket`] and [`Event`] give plugins the plain
//! fields back.

use std::borrow::Cow;
use std::cell::OnceCell;

use serde_json::Value;
use serde_json::value::RawValue;

use crate::bindings::roomd::plugin::types as wit;
use crate::{Payload, Plugin, Rejection};

/// The socket a hook is about. Its fields are fetched from roomd the first time they are
/// read, then kept for the rest of the hook.
pub struct Socket<'a> {
    /// Where unread fields come from: the handle roomd lent, or nowhere (all known).
    lent: Option<&'a wit::Socket>,
    id: OnceCell<String>,
    namespace: OnceCell<String>,
    data: OnceCell<String>,
}

impl Socket<'static> {
    /// A socket with known fields, for calling hooks directly (in tests).
    pub fn new(id: impl Into<String>, namespace: impl Into<String>, data: impl Into<String>) -> Socket<'static> {
        Socket {
            lent: None,
            id: OnceCell::from(id.into()),
            namespace: OnceCell::from(namespace.into()),
            data: OnceCell::from(data.into()),
        }
    }
}

impl<'a> Socket<'a> {
    /// The socket roomd lent the current hook.
    pub(crate) fn lent(handle: &'a wit::Socket) -> Socket<'a> {
        Socket { lent: Some(handle), id: OnceCell::new(), namespace: OnceCell::new(), data: OnceCell::new() }
    }

    /// The socket id; also the name of its own room.
    pub fn id(&self) -> &str {
        self.id.get_or_init(|| self.lent.map(wit::Socket::id).unwrap_or_default())
    }

    /// The namespace, e.g. `/chat`.
    pub fn namespace(&self) -> &str {
        self.namespace.get_or_init(|| self.lent.map(wit::Socket::namespace).unwrap_or_default())
    }

    /// What plugins attached when the socket connected: a JSON object text (`{}` when
    /// nothing was).
    pub fn data(&self) -> &str {
        self.data.get_or_init(|| self.lent.map_or_else(|| String::from("{}"), wit::Socket::data))
    }

    /// [`data`](Self::data) as a JSON value (an object).
    pub fn data_json(&self) -> Value {
        serde_json::from_str(self.data()).unwrap_or(Value::Object(Default::default()))
    }
}

impl std::fmt::Debug for Socket<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Socket").field("id", &self.id()).finish_non_exhaustive()
    }
}

/// An event from a client. Room requests (`join`, `leave`, `publish`) are events too.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Event {
    /// The event name.
    pub name: String,
    /// Its arguments.
    pub payload: Payload,
    /// Whether the client waits for an acknowledgement.
    pub wants_ack: bool,
}

impl Event {
    /// An event with these arguments (no attachments).
    pub fn new(name: impl Into<String>, values: &[Value]) -> Event {
        Event { name: name.into(), payload: Payload::from_values(values), wants_ack: false }
    }

    /// The event roomd sent: its wire text split into name and arguments.
    pub(crate) fn from_wit(event: wit::Event) -> Event {
        let (name, args) = split(event.text);
        Event { name, payload: Payload { args, attachments: event.attachments.unwrap_or_default() }, wants_ack: event.wants_ack }
    }

    /// Sets the name and arguments from an event's wire text, reusing the buffers they
    /// had ([`split`] reads the same way).
    fn read_text(&mut self, text: &str) {
        self.name.clear();
        self.payload.args.clear();
        match quick_split(text) {
            Some((name, tail)) => {
                self.name.push_str(&name);
                match tail {
                    Some(start) => {
                        self.payload.args.push('[');
                        self.payload.args.push_str(&text[start..]);
                    }
                    None => self.payload.args.push_str("[]"),
                }
            }
            None => (self.name, self.payload.args) = parsed(text).unwrap_or_else(|| (String::new(), String::from("[]"))),
        }
    }

    /// The event in the contract's form.
    pub(crate) fn into_wit(self) -> wit::Event {
        let attachments = self.payload.attachments;
        wit::Event {
            text: wire_text(&self.name, &self.payload.args),
            attachments: (!attachments.is_empty()).then_some(attachments),
            wants_ack: self.wants_ack,
        }
    }
}

/// The answer to an event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EventVerdict {
    /// Pass the event on unchanged to the next plugin, then to the namespace's relay.
    Allow,
    /// Pass this event on instead (a rewritten name or payload).
    Modify(Event),
    /// Refuse the event: it goes nowhere, and the client's ack (if any) carries the
    /// rejection. The chain stops.
    Reject(Rejection),
    /// The plugin has handled the event itself: it goes nowhere else, and the client's
    /// ack (if any) carries these arguments. The chain stops.
    Handled(Payload),
    /// Disconnect the socket. The chain stops, for this event and the socket's events
    /// after it; those it sent before go on.
    Disconnect,
}

impl EventVerdict {
    /// Refuse the event with `message`.
    pub fn reject(message: impl Into<String>) -> EventVerdict {
        EventVerdict::Reject(Rejection::new(message))
    }

    /// Answer the event: the client's ack receives `values`.
    pub fn handled(values: &[Value]) -> EventVerdict {
        EventVerdict::Handled(Payload::from_values(values))
    }

    /// The verdict in the contract's form.
    pub(crate) fn into_wit(self) -> wit::EventVerdict {
        match self {
            EventVerdict::Allow => wit::EventVerdict::Allow,
            EventVerdict::Modify(event) => wit::EventVerdict::Modify(event.into_wit()),
            EventVerdict::Reject(rejection) => wit::EventVerdict::Reject(rejection),
            EventVerdict::Handled(payload) => wit::EventVerdict::Handled(payload),
            EventVerdict::Disconnect => wit::EventVerdict::Disconnect,
        }
    }
}

/// The events of a burst from roomd, read one at a time into an [`Event`] whose buffers
/// are reused: the plugin is shown every event of the burst, but no event is allocated.
pub(crate) struct Burst(wit::Burst);

impl Burst {
    pub(crate) fn new(burst: wit::Burst) -> Burst {
        Burst(burst)
    }

    /// How many events it holds.
    pub(crate) fn len(&self) -> usize {
        self.0.events.len()
    }

    /// Reads event `i` into `event`. An event whose text the offsets do not delimit
    /// (roomd never sends one) reads as an unnamed event without arguments.
    pub(crate) fn read(&mut self, i: usize, event: &mut Event) {
        let start = i.checked_sub(1).map_or(0, |before| self.0.events[before].end as usize);
        let this = &mut self.0.events[i];
        event.read_text(self.0.texts.get(start..this.end as usize).unwrap_or_default());
        event.payload.attachments = this.attachments.take().unwrap_or_default();
        event.wants_ack = this.wants_ack;
    }
}

/// `plugin`'s verdicts on the `count` events of a batch, in order, each put by `read`
/// into the same [`Event`]. After a `Disconnect` the socket is gone: the rest are
/// answered `Disconnect` without being read or shown to the plugin.
pub(crate) fn decide_all<P: Plugin>(
    plugin: &mut P,
    socket: &Socket<'_>,
    count: usize,
    mut read: impl FnMut(usize, &mut Event),
) -> impl Iterator<Item = EventVerdict> {
    let mut event = Event::new("", &[]);
    let mut gone = false;
    (0..count).map(move |i| {
        if gone {
            return EventVerdict::Disconnect;
        }
        read(i, &mut event);
        let verdict = plugin.on_event(socket, &event);
        gone = verdict == EventVerdict::Disconnect;
        verdict
    })
}

/// `["name",...arguments]` from a name and an arguments array text. roomd writes the same
/// form (`socketio::packet::event_array`); a plugin crate cannot depend on the host, so
/// each side of the contract has its own copy, and both are tested against round trips.
fn wire_text(name: &str, args: &str) -> String {
    let name = serde_json::to_string(name).expect("a string serializes");
    let inner = args.trim().strip_prefix('[').unwrap_or(args).trim_start();
    let mut text = String::with_capacity(name.len() + inner.len() + 2);
    text.push('[');
    text.push_str(&name);
    if inner.is_empty() || inner.starts_with(']') {
        text.push(']');
    } else {
        text.push(',');
        text.push_str(inner);
    }
    text
}

/// The name and the arguments array text of an event's wire text, reusing the text's
/// buffer for the arguments. roomd writes `["name"` directly followed by `,arguments]` or
/// `]`, and that is read without a parse; anything else goes through the JSON parser.
/// Text that is not an event at all (which roomd never sends) reads as an unnamed event
/// without arguments.
fn split(mut text: String) -> (String, String) {
    if let Some((name, tail)) = quick_split(&text) {
        let name = name.into_owned();
        // `["name",a,b]` becomes `[a,b]` in place; `["name"]` becomes `[]`.
        match tail {
            Some(start) => text.replace_range(..start, "["),
            None => text = String::from("[]"),
        }
        return (name, text);
    }
    parsed(&text).unwrap_or_else(|| (String::new(), String::from("[]")))
}

/// For roomd's own spelling: the name (borrowed from `text` unless it has escapes), and
/// where the arguments start (after the comma; `None` when there are none).
fn quick_split(text: &str) -> Option<(Cow<'_, str>, Option<usize>)> {
    let quoted = text.strip_prefix("[\"")?;
    // The name's closing quote, or its first escape: then the parser reads the name.
    let end = quoted.bytes().position(|b| b == b'"' || b == b'\\')?;
    let (name, after) = if quoted.as_bytes()[end] == b'"' {
        (Cow::Borrowed(&quoted[..end]), end + 3)
    } else {
        let mut names = serde_json::Deserializer::from_str(&text[1..]).into_iter::<String>();
        let name = names.next()?.ok()?;
        (Cow::Owned(name), 1 + names.byte_offset())
    };
    // `["` + the name + `"`, then `,` and the arguments or `]`.
    match text.get(after..)? {
        "]" => Some((name, None)),
        rest if rest.starts_with(',') => Some((name, Some(after + 1))),
        _ => None,
    }
}

/// [`split`] through the JSON parser.
fn parsed(text: &str) -> Option<(String, String)> {
    let items: Vec<&RawValue> = serde_json::from_str(text).ok()?;
    let (first, rest) = items.split_first()?;
    let name = serde_json::from_str(first.get()).ok()?;
    let args = rest.iter().map(|arg| arg.get()).collect::<Vec<_>>().join(",");
    Some((name, format!("[{args}]")))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    #[test]
    fn wire_text_round_trips() {
        for (name, args) in [
            ("chat", r#"[{"text":"hi"},2]"#),
            ("ping", "[]"),
            ("quote\"and\\slash", r#"["a"]"#),
            ("line\nbreak", "[1]"),
            ("ünï", r#"[{"x":[1,{"y":"]"}]}]"#),
        ] {
            let text = wire_text(name, args);
            assert_eq!(serde_json::from_str::<Value>(&text).unwrap()[0], json!(name), "{text}");
            assert_eq!(split(text.clone()), (name.to_owned(), args.to_owned()), "{text}");
        }
    }

    #[test]
    fn other_spellings_of_an_event_go_through_the_parser() {
        let read = |text: &str| split(String::from(text));
        assert_eq!(read(r#" [ "chat" , 1 , {"a":2} ] "#), ("chat".into(), r#"[1,{"a":2}]"#.into()));
        assert_eq!(read(r#"["\u0063hat"]"#), ("chat".into(), "[]".into()));
        assert_eq!(read(r#"["chat" ,1]"#), ("chat".into(), "[1]".into()), "a space the quick reading does not take");
        assert_eq!(read("[1,2]"), (String::new(), "[]".into()), "no name");
        assert_eq!(read(r#"["unterminated"#), (String::new(), "[]".into()));
        assert_eq!(read("not json"), (String::new(), "[]".into()));
    }

    #[test]
    fn a_known_socket_answers_without_roomd() {
        let socket = Socket::new("s1", "/chat", r#"{"user":"ada"}"#);
        assert_eq!((socket.id(), socket.namespace()), ("s1", "/chat"));
        assert_eq!(socket.data_json(), json!({ "user": "ada" }));
    }

    #[test]
    fn events_convert_to_the_contract_and_back() {
        let event = Event { name: "say".into(), payload: Payload::from_values(&[json!("hi")]), wants_ack: true };
        let wit = event.clone().into_wit();
        assert_eq!((wit.text.as_str(), wit.attachments.is_none()), (r#"["say","hi"]"#, true));
        assert_eq!(Event::from_wit(wit), event);
        let binary = Event { payload: Payload { args: r#"[{"_placeholder":true,"num":0}]"#.into(), attachments: vec![vec![1, 2]] }, ..event };
        assert_eq!(Event::from_wit(binary.clone().into_wit()), binary);
    }

    /// A burst as roomd writes one: the texts one after another, each event's end.
    fn burst(events: &[(&str, bool)]) -> Burst {
        let mut texts = String::new();
        let events = events
            .iter()
            .map(|&(text, wants_ack)| {
                texts.push_str(text);
                wit::BurstEvent { end: texts.len() as u32, attachments: None, wants_ack }
            })
            .collect();
        Burst::new(wit::Burst { texts, events })
    }

    #[test]
    fn a_burst_is_read_event_by_event_into_one_reused_event() {
        let mut burst = burst(&[(r#"["say","hi",2]"#, true), (r#"["ping"]"#, false), (r#"[ "spaced" , {"a":"]"} ]"#, false)]);
        burst.0.events[1].attachments = Some(vec![vec![7]]);
        let mut event = Event::new("", &[]);
        let mut read = |i| {
            burst.read(i, &mut event);
            (event.name.clone(), event.payload.args.clone(), event.payload.attachments.clone(), event.wants_ack)
        };
        assert_eq!(read(0), ("say".into(), r#"["hi",2]"#.into(), vec![], true));
        assert_eq!(read(1), ("ping".into(), "[]".into(), vec![vec![7]], false), "attachments and the ack flag are the event's own");
        assert_eq!(read(2), ("spaced".into(), r#"[{"a":"]"}]"#.into(), vec![], false), "another spelling goes through the parser");
    }

    #[test]
    fn offsets_that_do_not_delimit_a_text_read_as_an_unnamed_event() {
        let mut burst = burst(&[(r#"["a"]"#, false), (r#"["ü"]"#, false)]);
        // `["a"]["ü"]`: the second text runs from 5 to 11, its `ü` from 7 to 9.
        burst.0.events[1].end = 8;
        let mut event = Event::new("stale", &[serde_json::json!(1)]);
        burst.read(1, &mut event);
        assert_eq!((event.name.as_str(), event.payload.args.as_str()), ("", "[]"));
        burst.0.events[1].end = 1; // before its start
        burst.read(1, &mut event);
        assert_eq!((event.name.as_str(), event.payload.args.as_str()), ("", "[]"));
    }

    /// A plugin that disconnects on `kick` and counts what it is shown.
    struct Kicker {
        shown: Vec<String>,
    }

    impl Plugin for Kicker {
        fn init(_config: &Value) -> Result<Self, String> {
            Ok(Kicker { shown: Vec::new() })
        }

        fn on_event(&mut self, _socket: &Socket, event: &Event) -> EventVerdict {
            self.shown.push(event.name.clone());
            if event.name == "kick" { EventVerdict::Disconnect } else { EventVerdict::Allow }
        }
    }

    #[test]
    fn after_a_disconnect_the_rest_of_a_batch_is_not_shown() {
        let mut plugin = Kicker::init(&json!({})).unwrap();
        let socket = Socket::new("s1", "/", "{}");
        let events = ["a", "kick", "b", "c"].map(|name| Event::new(name, &[]));
        let verdicts: Vec<_> = decide_all(&mut plugin, &socket, events.len(), |i, event| event.clone_from(&events[i])).collect();
        let allow_then_gone = [EventVerdict::Allow, EventVerdict::Disconnect, EventVerdict::Disconnect, EventVerdict::Disconnect];
        assert_eq!(verdicts, allow_then_gone);
        assert_eq!(plugin.shown, ["a", "kick"]);
    }
}
