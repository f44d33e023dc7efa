//! Client events (product.md §6) parsed and checked, the same for both transports. A bad event
//! becomes the `(false, sentence)` answer here and never reaches the live state.

use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone)]
pub enum Request {
    /// `visitor_first_msg`, `visitor_msg_unclaimed`, `visitor_msg`: the live state routes it.
    VisitorMessage {
        content: Arc<RawValue>,
    },
    VisitorLeave,
    StaffJoin {
        visitor: String,
    },
    StaffMsg {
        visitor: String,
        content: Arc<RawValue>,
    },
    StaffLeave {
        visitor: String,
    },
    TakeOver {
        visitor: String,
    },
    AddStaff {
        visitor: String,
        staff: String,
    },
    RemoveStaff {
        visitor: String,
        staff: String,
    },
    ChangePriority {
        visitor: String,
        severity_level: i64,
    },
    /// `visitor` is required from staff; a visitor may leave it out (it is their own room).
    Typing {
        visitor: Option<String>,
        typing: bool,
    },
}

/// Every client event name, for transports that register handlers by name.
pub const EVENTS: [&str; 13] = [
    "visitor_first_msg",
    "visitor_msg_unclaimed",
    "visitor_msg",
    "visitor_leave_room",
    "staff_join",
    "staff_msg",
    "staff_leave_room",
    "take_over_chat",
    "add_staff_to_chat",
    "remove_staff_from_chat",
    "change_chat_priority",
    "user_typing_send",
    "user_stop_typing_send",
];

fn invalid(field: &str) -> String {
    format!("Missing/Invalid field: {field}")
}

/// The event's data as an object of raw fields.
fn fields<'a>(
    data: Option<&'a RawValue>,
    first: &str,
) -> Result<HashMap<&'a str, &'a RawValue>, String> {
    data.and_then(|d| serde_json::from_str::<HashMap<&str, &RawValue>>(d.get()).ok())
        .ok_or_else(|| invalid(first))
}

fn string(f: &HashMap<&str, &RawValue>, key: &str) -> Result<String, String> {
    f.get(key)
        .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
        .filter(|s| !s.is_empty() && s.len() <= 64)
        .ok_or_else(|| invalid(key))
}

/// The deepest nesting of arrays and objects a message content may have (the object itself is
/// level 1). Chat content is flat in practice; this keeps every later reader (ours, serde's
/// default recursion limit of 128, a browser) far from its limits.
pub const MAX_CONTENT_DEPTH: usize = 32;

/// A message content: a JSON object, kept byte-for-byte, at most `max` bytes, checked once here
/// at the door so that nothing stored can trip a reader later: every string decodes to valid
/// Unicode (no lone surrogate escapes such as `"\ud800"`, which JSON's grammar allows but no
/// UTF-8 reader can hold), every number fits a double (no `1e999`) and nesting stays within
/// `MAX_CONTENT_DEPTH`.
pub fn content(raw: Option<&RawValue>, max: usize) -> Result<Arc<RawValue>, String> {
    let raw = raw.ok_or_else(|| invalid("content"))?;
    let text = raw.get();
    if !text.trim_start().starts_with('{') {
        return Err(invalid("content"));
    }
    if text.len() > max {
        return Err(format!(
            "The message content is larger than the limit of {max} bytes."
        ));
    }
    check_json(text)?;
    Ok(Arc::from(raw.to_owned()))
}

/// Walks JSON text without building it: `Ok` when every string (keys too) is valid Unicode and
/// arrays and objects nest at most `MAX_CONTENT_DEPTH` deep. serde_json decodes each string
/// into its scratch buffer as it goes, which is where a lone surrogate is refused.
pub fn check_json(text: &str) -> Result<(), String> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(text);
    Walk { depth: 1 }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| {
            if e.to_string().contains(TOO_DEEP) {
                format!(
                    "The message content is nested too deeply (at most {MAX_CONTENT_DEPTH} levels)."
                )
            } else {
                format!("Missing/Invalid field: content ({e})")
            }
        })
}

const TOO_DEEP: &str = "content nested too deeply";

/// One JSON value at nesting level `depth`.
#[derive(Clone, Copy)]
struct Walk {
    depth: usize,
}

impl Walk {
    /// Entering an array or object at this level: the walk for its elements.
    fn inner<E: serde::de::Error>(self) -> Result<Walk, E> {
        if self.depth > MAX_CONTENT_DEPTH {
            return Err(E::custom(TOO_DEEP));
        }
        Ok(Walk {
            depth: self.depth + 1,
        })
    }
}

impl<'de> serde::de::DeserializeSeed<'de> for Walk {
    type Value = ();
    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> Result<(), D::Error> {
        d.deserialize_any(self)
    }
}

impl<'de> serde::de::Visitor<'de> for Walk {
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("any JSON value")
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
    fn visit_str<E>(self, _: &str) -> Result<(), E> {
        Ok(())
    }
    fn visit_unit<E>(self) -> Result<(), E> {
        Ok(())
    }
    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> Result<(), A::Error> {
        let inner = self.inner()?;
        while seq.next_element_seed(inner)?.is_some() {}
        Ok(())
    }
    fn visit_map<A: serde::de::MapAccess<'de>>(self, mut map: A) -> Result<(), A::Error> {
        let inner = self.inner()?;
        // Keys are strings: walking them decodes (and so checks) their escapes too.
        while map.next_key_seed(self)?.is_some() {
            map.next_value_seed(inner)?;
        }
        Ok(())
    }
}

impl Request {
    /// Parses event `name` with its data (`None` when the client sent none).
    pub fn parse(
        name: &str,
        data: Option<&RawValue>,
        max_content: usize,
    ) -> Result<Request, String> {
        Ok(match name {
            "visitor_first_msg" | "visitor_msg_unclaimed" | "visitor_msg" => {
                Request::VisitorMessage {
                    content: content(data, max_content)?,
                }
            }
            "visitor_leave_room" => Request::VisitorLeave,
            "staff_join" | "staff_leave_room" | "take_over_chat" => {
                let visitor = string(&fields(data, "visitor")?, "visitor")?;
                match name {
                    "staff_join" => Request::StaffJoin { visitor },
                    "staff_leave_room" => Request::StaffLeave { visitor },
                    _ => Request::TakeOver { visitor },
                }
            }
            "staff_msg" => {
                let f = fields(data, "visitor")?;
                Request::StaffMsg {
                    visitor: string(&f, "visitor")?,
                    content: content(f.get("content").copied(), max_content)?,
                }
            }
            "add_staff_to_chat" | "remove_staff_from_chat" => {
                let f = fields(data, "visitor")?;
                let (visitor, staff) = (string(&f, "visitor")?, string(&f, "staff")?);
                if name == "add_staff_to_chat" {
                    Request::AddStaff { visitor, staff }
                } else {
                    Request::RemoveStaff { visitor, staff }
                }
            }
            "change_chat_priority" => {
                let f = fields(data, "visitor")?;
                let visitor = string(&f, "visitor")?;
                // The seed's default is 0; booleans, floats and negatives are refused.
                let severity_level = match f.get("severity_level") {
                    None => 0,
                    Some(raw) => serde_json::from_str::<i64>(raw.get())
                        .ok()
                        .filter(|l| (0..=1000).contains(l))
                        .ok_or_else(|| invalid("severity_level"))?,
                };
                Request::ChangePriority {
                    visitor,
                    severity_level,
                }
            }
            "user_typing_send" | "user_stop_typing_send" => {
                let visitor = match data {
                    None => None,
                    Some(d) if d.get().trim() == "null" => None,
                    Some(_) => {
                        let f = fields(data, "visitor")?;
                        match f.get("visitor") {
                            None => None,
                            Some(_) => Some(string(&f, "visitor")?),
                        }
                    }
                };
                Request::Typing {
                    visitor,
                    typing: name == "user_typing_send",
                }
            }
            other => {
                let shown: String = other.chars().take(64).collect();
                return Err(format!("Unknown event: {shown}"));
            }
        })
    }

    pub fn is_typing(&self) -> bool {
        matches!(self, Request::Typing { .. })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn raw(s: &str) -> Box<RawValue> {
        RawValue::from_string(s.to_string()).unwrap()
    }

    fn parse(name: &str, data: Option<&str>) -> Result<Request, String> {
        let d = data.map(raw);
        Request::parse(name, d.as_deref(), 100)
    }

    fn nested(levels: usize) -> String {
        format!(
            "{{\"c\":{}1{}}}",
            "[".repeat(levels - 1),
            "]".repeat(levels - 1)
        )
    }

    #[test]
    fn content_that_would_trip_a_reader_later_is_refused_at_the_door() {
        let refused = [
            r#"{"c":"\ud800"}"#.to_string(),
            r#"{"c":"a\udc00b"}"#.to_string(),
            r#"{"\ud83d":1}"#.to_string(),
            r#"{"c":"\ud83d\u0041"}"#.to_string(),
            r#"{"c":1e999}"#.to_string(),
            r#"{"c":[-1e400]}"#.to_string(),
            nested(MAX_CONTENT_DEPTH + 1),
            nested(200),
            format!("{{\"c\":{}", "[".repeat(100_000)),
        ];
        for text in &refused {
            let r = parse_big("visitor_msg", text);
            assert!(r.is_err(), "accepted {}", &text[..text.len().min(60)]);
        }
        let deep = parse_big("visitor_msg", &nested(200)).unwrap_err();
        assert!(deep.contains("nested too deeply"), "{deep}");
        let accepted = [
            r#"{"c":"\ud83d\ude00 ok"}"#.to_string(),
            r#"{"c":"😀","n":[1,2.5,-3e9,null,true,{"x":[]}]}"#.to_string(),
            nested(MAX_CONTENT_DEPTH),
        ];
        for text in &accepted {
            match parse_big(
                "staff_msg",
                &format!(r#"{{"visitor":"v","content":{text}}}"#),
            ) {
                Ok(Request::StaffMsg { content, .. }) => assert_eq!(content.get(), text),
                other => panic!("{text}: {other:?}"),
            }
        }
    }

    fn parse_big(name: &str, data: &str) -> Result<Request, String> {
        // Text that is not even JSON never becomes a RawValue: the transports refuse it first.
        let d = RawValue::from_string(data.to_string()).map_err(|e| e.to_string())?;
        Request::parse(name, Some(&d), 1 << 20)
    }

    #[test]
    fn content_is_kept_byte_for_byte() {
        let r = parse("visitor_msg", Some(r#"{"content": "hi",  "timestamp": 1}"#)).unwrap();
        match r {
            Request::VisitorMessage { content } => {
                assert_eq!(content.get(), r#"{"content": "hi",  "timestamp": 1}"#)
            }
            other => panic!("{other:?}"),
        }
    }

    #[test]
    fn bad_fields_are_named() {
        let cases = [
            ("visitor_msg", None, "Missing/Invalid field: content"),
            (
                "visitor_msg",
                Some("\"text\""),
                "Missing/Invalid field: content",
            ),
            ("visitor_msg", Some("[1]"), "Missing/Invalid field: content"),
            ("staff_join", None, "Missing/Invalid field: visitor"),
            ("staff_join", Some("{}"), "Missing/Invalid field: visitor"),
            (
                "staff_join",
                Some(r#"{"visitor": 5}"#),
                "Missing/Invalid field: visitor",
            ),
            (
                "staff_msg",
                Some(r#"{"visitor": "a"}"#),
                "Missing/Invalid field: content",
            ),
            (
                "staff_msg",
                Some(r#"{"visitor": "a", "content": "x"}"#),
                "Missing/Invalid field: content",
            ),
            (
                "add_staff_to_chat",
                Some(r#"{"visitor": "a"}"#),
                "Missing/Invalid field: staff",
            ),
            (
                "change_chat_priority",
                Some(r#"{"visitor": "a", "severity_level": -1}"#),
                "Missing/Invalid field: severity_level",
            ),
            (
                "change_chat_priority",
                Some(r#"{"visitor": "a", "severity_level": true}"#),
                "Missing/Invalid field: severity_level",
            ),
            (
                "change_chat_priority",
                Some(r#"{"visitor": "a", "severity_level": 1.5}"#),
                "Missing/Invalid field: severity_level",
            ),
            (
                "user_typing_send",
                Some(r#"{"visitor": []}"#),
                "Missing/Invalid field: visitor",
            ),
            ("no_such_event", None, "Unknown event: no_such_event"),
        ];
        for (name, data, want) in cases {
            assert_eq!(parse(name, data).unwrap_err(), want, "{name} {data:?}");
        }
        let big = format!(r#"{{"content": "{}"}}"#, "x".repeat(200));
        assert!(parse("visitor_msg", Some(&big))
            .unwrap_err()
            .contains("limit of 100 bytes"));
    }

    #[test]
    fn priority_defaults_to_zero() {
        match parse("change_chat_priority", Some(r#"{"visitor": "a"}"#)).unwrap() {
            Request::ChangePriority { severity_level, .. } => assert_eq!(severity_level, 0),
            other => panic!("{other:?}"),
        }
    }
}
