//! Every string value in a JSON array of arguments, read in place: no values are built,
//! and a string without escapes is never copied. The host hands plugins well-formed JSON;
//! on anything else this reads what it can and never panics.

/// Whether `check` holds for any string value (object keys aside) in the JSON array
/// `args`, past its first `skip` elements. Stops at the first that does. Text that is not
/// a JSON array has no strings.
pub(crate) fn any(args: &str, skip: usize, check: &mut dyn FnMut(&str) -> bool) -> bool {
    let bytes = args.as_bytes();
    let Some(open) = bytes.iter().position(|b| !b.is_ascii_whitespace()) else { return false };
    if bytes[open] != b'[' {
        return false;
    }
    let (mut at, mut depth, mut element) = (open + 1, 1usize, 0usize);
    while let Some(&b) = bytes.get(at) {
        at += 1;
        match b {
            b'"' => {
                let start = at;
                let (end, escaped) = string_end(bytes, start);
                at = end + 1;
                let is_key = bytes[at.min(bytes.len())..].iter().find(|b| !b.is_ascii_whitespace()) == Some(&b':');
                if element < skip || is_key {
                    continue;
                }
                let hit = if escaped {
                    // Rare: decode the escapes through serde_json, quotes included.
                    serde_json::from_str::<String>(&args[start - 1..(end + 1).min(args.len())]).is_ok_and(|text| check(&text))
                } else {
                    check(&args[start..end.min(args.len())])
                };
                if hit {
                    return true;
                }
            }
            b'[' | b'{' => depth += 1,
            b']' | b'}' => {
                depth -= 1;
                if depth == 0 {
                    return false;
                }
            }
            b',' if depth == 1 => element += 1,
            _ => {}
        }
    }
    false
}

/// Where the string whose text begins at `start` ends (its closing quote, or the end of
/// the input), and whether it holds an escape.
fn string_end(bytes: &[u8], start: usize) -> (usize, bool) {
    let mut escaped = false;
    let mut at = start;
    while let Some(found) = bytes.get(at..).and_then(|rest| memchr::memchr2(b'"', b'\\', rest)) {
        at += found;
        if bytes[at] == b'"' {
            return (at, escaped);
        }
        escaped = true;
        at += 2;
    }
    (bytes.len(), escaped)
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
        assert_eq!(strings(r#" [ "a" , {"k" : "v", "e":"\u00e9\n"} ] "#, 0), ["a", "v", "é\n"], "space and escapes");
        assert_eq!(strings(r#"[["x",1],"y"]"#, 1), ["y"], "a nested array is one element");
    }

    #[test]
    fn malformed_text_reads_what_it_can() {
        for text in [r#"["unterminated"#, r#"["a\"#, "[", "]", r#"["a"]]]"#, r#"[{"k":"#, ""] {
            let _ = strings(text, 0);
        }
        assert_eq!(strings(r#"["a"]]]"#, 0), ["a"]);
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
