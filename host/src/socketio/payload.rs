//! Event arguments in their wire form: a JSON array text in which binary values are
//! placeholders (`{"_placeholder":true,"num":N}`), plus the binary attachments in order.
//!
//! Arguments stay as text from the client to every recipient. A relay never parses them
//! into values and re-serializes them, so what a client wrote is what others receive, byte
//! for byte, and a binary attachment passes through untouched.

use bytes::Bytes;
use serde_json::Value;
use serde_json::value::RawValue;

/// Event or acknowledgement arguments.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Payload {
    json: String,
    attachments: Vec<Bytes>,
}

/// The arguments are not a JSON array, or their placeholders do not match the attachments.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PayloadError {
    /// Not a JSON array.
    #[error("arguments must be a JSON array")]
    NotAnArray,
    /// A placeholder names an attachment that does not exist.
    #[error("placeholder {0} has no attachment")]
    MissingAttachment(u64),
}

impl Payload {
    /// No arguments.
    pub fn empty() -> Payload {
        Payload { json: String::from("[]"), attachments: Vec::new() }
    }

    /// Arguments from a JSON array text and its attachments, checking that every
    /// placeholder refers to an attachment.
    pub fn new(json: String, attachments: Vec<Bytes>) -> Result<Payload, PayloadError> {
        let value: Value = serde_json::from_str(&json).map_err(|_| PayloadError::NotAnArray)?;
        if !value.is_array() {
            return Err(PayloadError::NotAnArray);
        }
        if !attachments.is_empty() || json.contains("_placeholder") {
            check_placeholders(&value, attachments.len())?;
        }
        Ok(Payload { json, attachments })
    }

    /// Arguments from a JSON array text without attachments.
    pub fn from_json(json: &str) -> Result<Payload, PayloadError> {
        Payload::new(json.to_owned(), Vec::new())
    }

    /// Arguments from values.
    pub fn from_values(values: &[Value]) -> Payload {
        Payload { json: serde_json::to_string(values).expect("values serialize"), attachments: Vec::new() }
    }

    /// The arguments from already validated parts (the codec's output).
    pub(crate) fn from_parts(json: String, attachments: Vec<Bytes>) -> Payload {
        Payload { json, attachments }
    }

    /// The JSON array text.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The binary attachments, in placeholder order.
    pub fn attachments(&self) -> &[Bytes] {
        &self.attachments
    }

    /// Splits into JSON text and attachments.
    pub fn into_parts(self) -> (String, Vec<Bytes>) {
        (self.json, self.attachments)
    }

    /// Each argument's JSON text.
    pub fn raw_args(&self) -> Vec<&RawValue> {
        serde_json::from_str(&self.json).unwrap_or_default()
    }

    /// The arguments parsed as values (placeholders stay placeholders).
    pub fn values(&self) -> Vec<Value> {
        serde_json::from_str(&self.json).unwrap_or_default()
    }

    /// The first argument's JSON text, and the other arguments with the same attachments
    /// (placeholder numbers still index them), from a single parse.
    pub fn split_first(&self) -> Option<(&str, Payload)> {
        let raw = self.raw_args();
        let (first, rest) = raw.split_first()?;
        let mut json = String::with_capacity(self.json.len());
        json.push('[');
        for (i, arg) in rest.iter().enumerate() {
            if i > 0 {
                json.push(',');
            }
            json.push_str(arg.get());
        }
        json.push(']');
        Some((first.get(), Payload { json, attachments: self.attachments.clone() }))
    }
}

/// Checks that every placeholder in `value` names one of `count` attachments.
pub(crate) fn check_placeholders(value: &Value, count: usize) -> Result<(), PayloadError> {
    match value {
        Value::Array(items) => items.iter().try_for_each(|v| check_placeholders(v, count)),
        Value::Object(map) => {
            if map.get("_placeholder") == Some(&Value::Bool(true)) {
                let num = map.get("num").and_then(Value::as_u64).ok_or(PayloadError::MissingAttachment(u64::MAX))?;
                if num as usize >= count {
                    return Err(PayloadError::MissingAttachment(num));
                }
                return Ok(());
            }
            map.values().try_for_each(|v| check_placeholders(v, count))
        }
        _ => Ok(()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_arrays_and_placeholders() {
        assert_eq!(Payload::from_json("{}"), Err(PayloadError::NotAnArray));
        assert_eq!(Payload::from_json("[1"), Err(PayloadError::NotAnArray));
        assert!(Payload::from_json(r#"[1,"a",{"b":null}]"#).is_ok());
        let one = vec![Bytes::from_static(b"x")];
        assert!(Payload::new(r#"[{"_placeholder":true,"num":0}]"#.into(), one.clone()).is_ok());
        assert_eq!(
            Payload::new(r#"[{"a":[{"_placeholder":true,"num":1}]}]"#.into(), one),
            Err(PayloadError::MissingAttachment(1))
        );
    }

    #[test]
    fn split_first_keeps_argument_text() {
        let p = Payload::from_json(r#"[{"to":["a"]}, "chat", {"x": 1}]"#).unwrap();
        let (first, rest) = p.split_first().unwrap();
        assert_eq!((first, rest.json()), (r#"{"to":["a"]}"#, r#"["chat",{"x": 1}]"#));
        let single = Payload::from_json("[1]").unwrap();
        let (only, none) = single.split_first().unwrap();
        assert_eq!((only, none.json()), ("1", "[]"));
        assert!(Payload::empty().split_first().is_none());
    }
}
