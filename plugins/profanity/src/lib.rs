//! roomd's profanity plugin: checks every string in an event's arguments (nested JSON
//! included) with `rustrict`, which sees through leetspeak, spacing, repeated letters and
//! look-alike Unicode while leaving innocent words alone ("Scunthorpe", "assassin").
//!
//! Mode `mask` rewrites the event with the offending words starred out; mode `reject`
//! refuses it (the sender's ack gets `{ok:false, error, data:{code:"profanity"}}` and the
//! event goes nowhere). Extra denied and allowed words come from config and change with a
//! hot reload of `config.toml`.

use roomd_plugin_sdk::{Event, EventVerdict, Hooks, Interests, Payload, Plugin, Rejection, Socket, export_plugin};
use rustrict::{Censor, Trie, Type};
use serde::Deserialize;
use serde_json::{Value, json};

/// The plugin's config table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct Config {
    /// `mask` (default) or `reject`.
    #[serde(default)]
    mode: Mode,
    /// Only these events are checked; empty (default) checks every event but room
    /// requests (`join`, `leave`).
    #[serde(default)]
    events: Vec<String>,
    /// Least severity acted on: `mild`, `moderate` (default) or `severe`.
    #[serde(default)]
    threshold: Threshold,
    /// Further words to treat as severe profanity.
    #[serde(default)]
    deny: Vec<String>,
    /// Words never to flag.
    #[serde(default)]
    allow: Vec<String>,
}

#[derive(Debug, Default, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Mode {
    #[default]
    Mask,
    Reject,
}

#[derive(Debug, Default, Clone, Copy, Deserialize)]
#[serde(rename_all = "lowercase")]
enum Threshold {
    Mild,
    #[default]
    Moderate,
    Severe,
}

impl Threshold {
    fn as_type(self) -> Type {
        match self {
            Threshold::Mild => Type::INAPPROPRIATE & Type::MILD_OR_HIGHER,
            Threshold::Moderate => Type::INAPPROPRIATE & Type::MODERATE_OR_HIGHER,
            Threshold::Severe => Type::INAPPROPRIATE & Type::SEVERE,
        }
    }
}

/// The profanity plugin.
pub struct Profanity {
    mode: Mode,
    events: Vec<String>,
    threshold: Type,
    /// The built-in word list plus config's words. `Censor` wants a `'static` trie; one is
    /// leaked per instance, and instances are only made at load and on a swap.
    trie: &'static Trie,
    /// The analyser for the common case, a clean message (see [`Profanity::offends`]).
    analyzer: Censor<std::vec::IntoIter<char>>,
}

impl Profanity {
    /// Whether `text` holds anything at or above the threshold. The analyser is reused
    /// across messages, so its match tables are allocated once, not per message.
    fn offends(&mut self, text: &str) -> bool {
        let chars: Vec<char> = text.chars().collect();
        self.analyzer.reset(chars.into_iter());
        self.analyzer.analyze().is(self.threshold)
    }

    /// `text` with offending words starred out, or `None` when it is clean.
    fn censor(&self, text: &str) -> Option<String> {
        let (censored, analysis) =
            Censor::from_str(text).with_trie(self.trie).with_censor_threshold(self.threshold).censor_and_analyze();
        analysis.is(self.threshold).then_some(censored)
    }

    /// Censors every string in `value`; returns whether anything was found.
    fn scrub(&self, value: &mut Value) -> bool {
        match value {
            Value::String(text) => match self.censor(text) {
                Some(censored) => {
                    *text = censored;
                    true
                }
                None => false,
            },
            Value::Array(items) => items.iter_mut().fold(false, |found, item| self.scrub(item) | found),
            Value::Object(map) => map.values_mut().fold(false, |found, item| self.scrub(item) | found),
            _ => false,
        }
    }

    fn checks(&self, event: &str) -> bool {
        if self.events.is_empty() {
            !matches!(event, "join" | "leave")
        } else {
            self.events.iter().any(|e| e == event)
        }
    }
}

impl Plugin for Profanity {
    fn init(config: &Value) -> Result<Self, String> {
        let config: Config = serde_json::from_value(config.clone()).map_err(|e| format!("profanity config: {e}"))?;
        let mut trie = Trie::default();
        for word in &config.deny {
            trie.set(&word.to_lowercase(), Type::PROFANE & Type::SEVERE);
        }
        for word in &config.allow {
            trie.set(&word.to_lowercase(), Type::SAFE);
        }
        let threshold = config.threshold.as_type();
        let trie: &'static Trie = Box::leak(Box::new(trie));
        let mut analyzer = Censor::new(Vec::new().into_iter());
        analyzer.with_trie(trie).with_censor_threshold(threshold);
        let mut filter = Profanity { mode: config.mode, events: config.events, threshold, trie, analyzer };
        // rustrict builds its tables lazily; do it here, under init's generous deadline,
        // rather than in the first event's hook.
        let _ = filter.censor("warm up the f1lter");
        let _ = filter.offends("warm up the f1lter");
        Ok(filter)
    }

    fn interests(&self) -> Interests {
        let interests = Interests::everything().hooks(Hooks::empty());
        if self.events.is_empty() {
            interests.events_except(["join", "leave"])
        } else {
            interests.only_events(self.events.iter().cloned())
        }
    }

    fn on_event(&mut self, _socket: &Socket, event: &Event) -> EventVerdict {
        if !self.checks(&event.name) {
            return EventVerdict::Allow;
        }
        // A publish envelope names rooms and an event, not words anyone reads.
        let skip = usize::from(event.name == "publish");
        // Most messages are clean: read their strings where they lie, and build values
        // only for one that needs rewriting.
        if !strings::any(&event.payload.args, skip, &mut |text| self.offends(text)) {
            return EventVerdict::Allow;
        }
        let mut values = event.payload.values();
        let found = values.iter_mut().skip(skip).fold(false, |found, value| self.scrub(value) | found);
        match (found, self.mode) {
            (false, _) => EventVerdict::Allow,
            (true, Mode::Reject) => EventVerdict::Reject(Rejection::with_data(
                "message contains language that is not allowed here",
                &json!({ "code": "profanity" }),
            )),
            (true, Mode::Mask) => EventVerdict::Modify(Event {
                name: event.name.clone(),
                payload: Payload { args: Value::Array(values).to_string(), attachments: event.payload.attachments.clone() },
                wants_ack: event.wants_ack,
            }),
        }
    }
}

export_plugin!(Profanity);

mod strings;

#[cfg(test)]
mod tests;
