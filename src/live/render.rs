//! Rendering a committed plan's payloads: the JSON text of each event, with the messages the
//! writer stored (or loaded) in place of their slots, rendered once per event and shared by
//! every recipient.

use super::plan::Part;
use crate::store::chats::Slot;
use serde_json::value::RawValue;
use std::sync::Arc;

/// Whether a payload shows a message from one of these slots.
pub fn shows_any(parts: &[(&'static str, Part)], slots: &[usize]) -> bool {
    parts.iter().any(|(_, p)| part_shows_any(p, slots))
}

fn part_shows_any(part: &Part, slots: &[usize]) -> bool {
    match part {
        Part::Message(s) => slots.contains(s),
        Part::Messages(list) => list.iter().any(|s| slots.contains(s)),
        Part::Object(parts) => shows_any(parts, slots),
        Part::List(items) => items.iter().any(|p| part_shows_any(p, slots)),
        Part::Json(_) | Part::Raw(_) => false,
    }
}

/// The payload as JSON text, with the stored messages in place of their slots.
pub fn render(parts: &[(&'static str, Part)], slots: &[Slot]) -> Arc<RawValue> {
    let mut out = Vec::with_capacity(256);
    write_object(&mut out, parts, slots);
    // Serializing values of our own types into JSON cannot fail and is UTF-8 by construction.
    let text = String::from_utf8(out).unwrap_or_default();
    match RawValue::from_string(text) {
        Ok(raw) => Arc::from(raw),
        Err(e) => {
            tracing::error!(error = %e, "rendered an invalid payload");
            Arc::from(RawValue::from_string("{}".into()).expect("{} is JSON"))
        }
    }
}

fn write_json<T: serde::Serialize + ?Sized>(out: &mut Vec<u8>, v: &T) {
    if serde_json::to_writer(&mut *out, v).is_err() {
        out.extend_from_slice(b"null");
    }
}

fn write_object(out: &mut Vec<u8>, parts: &[(&'static str, Part)], slots: &[Slot]) {
    out.push(b'{');
    for (i, (key, part)) in parts.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        write_json(out, key);
        out.push(b':');
        write_part(out, part, slots);
    }
    out.push(b'}');
}

fn write_part(out: &mut Vec<u8>, part: &Part, slots: &[Slot]) {
    match part {
        Part::Json(v) => write_json(out, v),
        Part::Raw(r) => out.extend_from_slice(r.get().as_bytes()),
        Part::Message(s) => match slots.get(*s) {
            Some(Slot::Message(m)) => write_json(out, &**m),
            _ => out.extend_from_slice(b"null"),
        },
        Part::Messages(list) => {
            let msgs = list.iter().flat_map(|s| match slots.get(*s) {
                Some(Slot::Message(m)) => std::slice::from_ref(m),
                Some(Slot::Messages(ms)) => ms.as_slice(),
                _ => &[],
            });
            out.push(b'[');
            for (i, m) in msgs.enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_json(out, &**m);
            }
            out.push(b']');
        }
        Part::Object(parts) => write_object(out, parts, slots),
        Part::List(items) => {
            out.push(b'[');
            for (i, p) in items.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                write_part(out, p, slots);
            }
            out.push(b']');
        }
    }
}
