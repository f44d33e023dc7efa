//! Rating (product.md §8.8): `rate_chat {rating: "good"|"bad", comment?}` by the visitor, once,
//! for their chat that just ended (during this run of the server). Stored on the chat; every
//! console hears `chat_rated {visitor, chat_id, rating, comment}`.

use super::{Args, Family, Sender};
use crate::live::plan::*;
use crate::live::state::views::raw;
use crate::live::state::LiveState;
use crate::webhooks::{Event, Fire};

pub const MAX_COMMENT_CHARS: usize = 1000;

#[derive(Debug, Clone)]
pub enum Rating {
    Rate {
        rating: &'static str,
        comment: Option<String>,
    },
}

pub const NOTHING_TO_RATE: Refusal =
    Refusal::fixed(Code::NotAllowed, "There is no ended chat to rate.");
pub const ALREADY_RATED: Refusal =
    Refusal::fixed(Code::NotAllowed, "This chat has already been rated.");

pub fn parse_rate(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("rating")?;
    let rating = match f
        .get("rating")
        .and_then(|raw| serde_json::from_str::<String>(raw.get()).ok())
        .as_deref()
    {
        Some("good") => "good",
        Some("bad") => "bad",
        _ => return Err(Refusal::invalid("rating")),
    };
    let comment = f
        .optional("comment", |raw| {
            serde_json::from_str::<Option<String>>(raw.get()).ok()
        })?
        .flatten()
        .map(|c| c.trim().to_string())
        .filter(|c| !c.is_empty());
    if comment
        .as_ref()
        .is_some_and(|c| c.chars().count() > MAX_COMMENT_CHARS)
    {
        return Err(Refusal::invalid("comment"));
    }
    Ok(Family::Rating(Rating::Rate { rating, comment }))
}

impl Rating {
    pub fn apply(self, s: &mut LiveState, by: &Sender, now: i64) -> Plan {
        let vid = match by.visitor() {
            Ok(v) => v.clone(),
            Err(refused) => return Plan::err(refused),
        };
        let Rating::Rate { rating, comment } = self;
        // A chat is rated once.
        let chat_id = match s.rooms.rate(&vid) {
            Ok(chat_id) => chat_id,
            Err(true) => return Plan::err(ALREADY_RATED),
            Err(false) => return Plan::err(NOTHING_TO_RATE),
        };
        let mut plan = Plan::ok();
        plan.op(DbOp::RateChat {
            chat_id: chat_id.clone(),
            rating,
            comment: comment.clone(),
            at: now,
        });
        s.tell(
            &mut plan,
            Audience::AllStaff(None),
            Out::ChatRated,
            vec![
                ("visitor", raw(&vid)),
                ("chat_id", raw(&chat_id)),
                ("rating", raw(rating)),
                ("comment", raw(&comment)),
            ],
        );
        // Webhooks (src/webhooks/): the chat has ended, so it is no longer in the rooms.
        if s.hooks.wants(Event::ChatRated) {
            let chat = serde_json::json!({ "id": chat_id, "visitor_id": vid, "status": "ended" });
            let rating = serde_json::json!({ "rating": rating, "comment": comment });
            plan.hooks.push(Fire {
                event: Event::ChatRated,
                at: now,
                data: vec![("chat", Part::Json(chat)), ("rating", Part::Json(rating))],
            });
        }
        plan
    }
}
