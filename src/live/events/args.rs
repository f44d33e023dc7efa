//! The data of a client event, read the same way for every event and both transports: fields
//! of an object, short id strings, message content (checked once, here, at the door).

use crate::live::refusal::{Code, Refusal};
use serde_json::value::RawValue;
use std::collections::HashMap;
use std::sync::Arc;

/// What a parser gets: the event's name, its data (`None` when the client sent none) and the
/// content limit.
pub struct Args<'a> {
    pub name: &'a str,
    pub data: Option<&'a RawValue>,
    pub max_content: usize,
    /// The message's client id when the transport carries it beside the data (`/ws`: the
    /// frame's `client_msg_id`; Socket.IO: a second argument `{client_msg_id}`).
    pub client_msg_id: Option<&'a RawValue>,
}

/// The longest client message id.
pub const MAX_CLIENT_MSG_ID: usize = 64;

/// A client message id: a string of 1 to 64 bytes.
pub fn client_msg_id(raw: Option<&RawValue>) -> Result<Option<String>, Refusal> {
    let Some(raw) = raw else { return Ok(None) };
    if raw.get().trim() == "null" {
        return Ok(None);
    }
    serde_json::from_str::<String>(raw.get())
        .ok()
        .filter(|s| !s.is_empty() && s.len() <= MAX_CLIENT_MSG_ID)
        .map(Some)
        .ok_or_else(|| Refusal::invalid("client_msg_id"))
}

/// The fields of an object; `first` names the field reported when the data is no object.
pub struct Fields<'a>(HashMap<&'a str, &'a RawValue>);

impl<'a> Args<'a> {
    /// The data as an object of raw fields.
    pub fn fields(&self, first: &str) -> Result<Fields<'a>, Refusal> {
        self.data
            .and_then(|d| serde_json::from_str::<HashMap<&str, &RawValue>>(d.get()).ok())
            .map(Fields)
            .ok_or_else(|| Refusal::invalid(first))
    }

    /// The whole data as message content.
    pub fn content(&self) -> Result<Arc<RawValue>, Refusal> {
        content(self.data, self.max_content)
    }

    /// The message's client id, from beside the data or else from `fields` (inside the data).
    pub fn client_msg_id(&self, fields: Option<&Fields>) -> Result<Option<String>, Refusal> {
        match self.client_msg_id {
            Some(raw) => client_msg_id(Some(raw)),
            None => client_msg_id(fields.and_then(|f| f.get("client_msg_id"))),
        }
    }

    /// No data, or `null`.
    pub fn is_empty(&self) -> bool {
        self.data.is_none_or(|d| d.get().trim() == "null")
    }
}

impl<'a> Fields<'a> {
    pub fn get(&self, key: &str) -> Option<&'a RawValue> {
        self.0.get(key).copied()
    }

    /// A required id-like string: 1 to 64 bytes.
    pub fn id<T: From<String>>(&self, key: &str) -> Result<T, Refusal> {
        self.get(key)
            .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
            .filter(|s| !s.is_empty() && s.len() <= 64)
            .map(T::from)
            .ok_or_else(|| Refusal::invalid(key))
    }

    /// An optional field, parsed by `f` when present (`f` returns `None` for a bad value).
    pub fn optional<T>(
        &self,
        key: &str,
        f: impl FnOnce(&RawValue) -> Option<T>,
    ) -> Result<Option<T>, Refusal> {
        match self.get(key) {
            None => Ok(None),
            Some(raw) => f(raw).map(Some).ok_or_else(|| Refusal::invalid(key)),
        }
    }

    /// A field as message content.
    pub fn content(&self, key: &str, max: usize) -> Result<Arc<RawValue>, Refusal> {
        content(self.get(key), max)
    }
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
pub fn content(raw: Option<&RawValue>, max: usize) -> Result<Arc<RawValue>, Refusal> {
    let raw = raw.ok_or_else(|| Refusal::invalid("content"))?;
    let text = raw.get();
    if !text.trim_start().starts_with('{') {
        return Err(Refusal::invalid("content"));
    }
    if text.len() > max {
        return Err(Refusal::new(
            Code::TooLarge,
            format!("The message content is larger than the limit of {max} bytes."),
        ));
    }
    check_json(text)?;
    Ok(Arc::from(raw.to_owned()))
}

/// Walks JSON text without building it: `Ok` when every string (keys too) is valid Unicode and
/// arrays and objects nest at most `MAX_CONTENT_DEPTH` deep. serde_json decodes each string
/// into its scratch buffer as it goes, which is where a lone surrogate is refused.
pub fn check_json(text: &str) -> Result<(), Refusal> {
    use serde::de::DeserializeSeed;
    let mut de = serde_json::Deserializer::from_str(text);
    Walk { depth: 1 }
        .deserialize(&mut de)
        .and_then(|()| de.end())
        .map_err(|e| {
            let sentence = if e.to_string().contains(TOO_DEEP) {
                format!(
                    "The message content is nested too deeply (at most {MAX_CONTENT_DEPTH} levels)."
                )
            } else {
                format!("Missing/Invalid field: content ({e})")
            };
            Refusal::new(Code::InvalidField, sentence)
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
