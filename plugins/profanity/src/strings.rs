//! Every string value in a JSON array of arguments, read in place: no values are built,
//! and a string without escapes is never copied.

use std::fmt;

use serde::Deserializer;
use serde::de::{DeserializeSeed, IgnoredAny, MapAccess, SeqAccess, Visitor};

/// Whether `check` holds for any string value (object keys aside) in the JSON array
/// `args`, past its first `skip` elements. Stops at the first that does. Text that is not
/// a JSON array has no strings.
pub(crate) fn any(args: &str, skip: usize, check: &mut dyn FnMut(&str) -> bool) -> bool {
    let mut found = false;
    let mut de = serde_json::Deserializer::from_str(args);
    let _ = de.deserialize_seq(Top { skip, scan: Scan { check, found: &mut found } });
    found
}

/// Looks at one value and everything inside it.
struct Scan<'a, 'c> {
    check: &'a mut (dyn FnMut(&str) -> bool + 'c),
    found: &'a mut bool,
}

impl Scan<'_, '_> {
    fn reborrow(&mut self) -> Scan<'_, '_> {
        Scan { check: &mut *self.check, found: &mut *self.found }
    }

    fn text(self, text: &str) {
        if !*self.found && (self.check)(text) {
            *self.found = true;
        }
    }
}

/// The arguments array: skips its first elements, scans the rest.
struct Top<'a, 'c> {
    skip: usize,
    scan: Scan<'a, 'c>,
}

impl<'de> Visitor<'de> for Top<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("an array of arguments")
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        for _ in 0..self.skip {
            if seq.next_element::<IgnoredAny>()?.is_none() {
                return Ok(());
            }
        }
        while seq.next_element_seed(self.scan.reborrow())?.is_some() {}
        Ok(())
    }
}

impl<'de> DeserializeSeed<'de> for Scan<'_, '_> {
    type Value = ();

    fn deserialize<D: Deserializer<'de>>(self, deserializer: D) -> Result<(), D::Error> {
        deserializer.deserialize_any(self)
    }
}

impl<'de> Visitor<'de> for Scan<'_, '_> {
    type Value = ();

    fn expecting(&self, f: &mut fmt::Formatter) -> fmt::Result {
        f.write_str("any JSON value")
    }

    fn visit_str<E>(self, text: &str) -> Result<(), E> {
        self.text(text);
        Ok(())
    }

    fn visit_bool<E>(self, _: bool) -> Result<(), E> {
        Ok(())
    }

    fn visit_i64<E>(self, _: i64) -> Result<(), E> {
        Ok(())
    }

    fn visit_u64<E>(self, _: u64) -> Result<(), E> {
        Ok(())
    }

    fn visit_f64<E>(self, _: f64) -> Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }

    fn visit_seq<A: SeqAccess<'de>>(mut self, mut seq: A) -> Result<(), A::Error> {
        while seq.next_element_seed(self.reborrow())?.is_some() {}
        Ok(())
    }

    fn visit_map<A: MapAccess<'de>>(mut self, mut map: A) -> Result<(), A::Error> {
        while map.next_key::<IgnoredAny>()?.is_some() {
            map.next_value_seed(self.reborrow())?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn strings(args: &str, skip: usize) -> Vec<String> {
        let mut seen = Vec::new();
        any(args, skip, &mut |text| {
            seen.push(text.to_owned());
            false
        });
        seen
    }

    #[test]
    fn every_string_value_at_any_depth_once() {
        let args = r#"[{"to":"room-1","event":"m"},7,"plain",{"nested":["a",{"b":"c\"d"}],"n":null,"t":true},-1.5]"#;
        assert_eq!(strings(args, 0), ["room-1", "m", "plain", "a", "c\"d"]);
        assert_eq!(strings(args, 1), ["plain", "a", "c\"d"], "the first argument skipped");
        assert_eq!(strings(args, 9), Vec::<String>::new());
        assert_eq!(strings("not json", 0), Vec::<String>::new());
        assert_eq!(strings(r#"{"a":"b"}"#, 0), Vec::<String>::new(), "arguments are an array");
    }

    #[test]
    fn stops_at_the_first_hit() {
        let mut calls = 0;
        let hit = any(r#"["x","bad","y","z"]"#, 0, &mut |text| {
            calls += 1;
            text == "bad"
        });
        assert!(hit);
        assert_eq!(calls, 2);
    }
}
