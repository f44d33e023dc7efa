//! Tags (product.md §8.8): `tag_chat {visitor, tags}` by any staff member on an open chat
//! replaces its tags; every console hears `chat_tags_changed {staff, visitor: room}`. The
//! visitor is never told.

use super::{Args, Family, Sender};
use crate::live::plan::*;
use crate::live::state::views::raw;
use crate::live::state::LiveState;
use crate::model::VisitorId;

pub const MAX_TAGS: usize = 10;
pub const MAX_TAG_CHARS: usize = 32;

#[derive(Debug, Clone)]
pub enum Tagging {
    Tag {
        visitor: VisitorId,
        tags: Vec<String>,
    },
}

pub fn parse_tag(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("visitor")?;
    let visitor = f.id("visitor")?;
    let given: Vec<String> = f
        .get("tags")
        .and_then(|raw| serde_json::from_str(raw.get()).ok())
        .ok_or_else(|| Refusal::invalid("tags"))?;
    let mut tags: Vec<String> = vec![];
    for t in given {
        let t = t.trim().to_string();
        let n = t.chars().count();
        if n == 0 || n > MAX_TAG_CHARS || t.chars().any(char::is_control) {
            return Err(Refusal::invalid("tags"));
        }
        if !tags
            .iter()
            .any(|have| have.to_lowercase() == t.to_lowercase())
        {
            tags.push(t);
        }
    }
    if tags.len() > MAX_TAGS {
        return Err(Refusal::invalid("tags"));
    }
    Ok(Family::Tagging(Tagging::Tag { visitor, tags }))
}

impl Tagging {
    pub fn apply(self, s: &mut LiveState, by: &Sender, now: i64) -> Plan {
        let staff = match by.staff() {
            Ok(st) => st.clone(),
            Err(refused) => return Plan::err(refused),
        };
        let Tagging::Tag { visitor, tags } = self;
        let Some(chat) = s.rooms.get_mut(&visitor) else {
            return Plan::err(say::CLOSED);
        };
        chat.tags = tags.clone();
        let chat_id = chat.chat_id.clone();
        let mut plan = Plan::ok();
        plan.op(DbOp::SetTags {
            chat_id,
            tags,
            at: now,
        });
        s.tell(
            &mut plan,
            Audience::AllStaff(None),
            Out::ChatTagsChanged,
            vec![("staff", raw(&staff)), ("visitor", s.room(&visitor))],
        );
        plan
    }
}
