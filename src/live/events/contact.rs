//! The visitor's contact details (product.md §8.5): `visitor_update {name?, email?}`, above all
//! when nobody is available, so the business can answer by email. Stored on the visitor; every
//! console hears `visitor_updated {visitor: room}`, and rooms show the details from then on
//! (the offline list of `staff_init` too, after a restart as well).

use super::{Args, Family, Sender};
use crate::live::plan::*;
use crate::live::state::LiveState;
use crate::model::VisitorId;

pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EMAIL_BYTES: usize = 254;

#[derive(Debug, Clone)]
pub enum Contact {
    Update {
        name: Option<String>,
        email: Option<String>,
    },
}

pub const NOTHING: Refusal = Refusal::fixed(
    Code::InvalidField,
    "Missing/Invalid field: name or email (give at least one).",
);

pub fn parse_update(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("name")?;
    let text = |key: &str| -> Result<Option<String>, Refusal> {
        match f.get(key) {
            None => Ok(None),
            Some(raw) if raw.get().trim() == "null" => Ok(None),
            Some(raw) => serde_json::from_str::<String>(raw.get())
                .map(|t| Some(t.trim().to_string()))
                .map_err(|_| Refusal::invalid(key)),
        }
    };
    let name = text("name")?;
    if name.as_ref().is_some_and(|n| {
        n.is_empty() || n.chars().count() > MAX_NAME_CHARS || n.chars().any(char::is_control)
    }) {
        return Err(Refusal::invalid("name"));
    }
    let email = text("email")?;
    if email.as_ref().is_some_and(|e| !looks_like_email(e)) {
        return Err(Refusal::invalid("email"));
    }
    if name.is_none() && email.is_none() {
        return Err(NOTHING);
    }
    Ok(Family::Contact(Contact::Update { name, email }))
}

/// One `@` with something before it and a dotted domain after it; no spaces or controls.
pub fn looks_like_email(e: &str) -> bool {
    if e.len() > MAX_EMAIL_BYTES || e.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    match e.split_once('@') {
        Some((local, domain)) => {
            !local.is_empty()
                && !domain.contains('@')
                && domain.contains('.')
                && !domain.starts_with('.')
                && !domain.ends_with('.')
        }
        None => false,
    }
}

impl Contact {
    pub fn apply(self, s: &mut LiveState, by: &Sender, now: i64) -> Plan {
        let vid = match by.visitor() {
            Ok(v) => v,
            Err(refused) => return Plan::err(refused),
        };
        match self {
            Contact::Update { name, email } => update(s, vid, name, email, now),
        }
    }
}

fn update(
    s: &mut LiveState,
    vid: &VisitorId,
    name: Option<String>,
    email: Option<String>,
    now: i64,
) -> Plan {
    if !s
        .roster
        .update_visitor(vid, name.as_deref(), email.as_deref(), now)
    {
        return Plan::err(say::NOT_CONNECTED);
    }
    if let (Some(chat), Some(v)) = (s.rooms.get_mut(vid), s.roster.visitor(vid)) {
        chat.visitor = v.clone();
    }
    let mut plan = Plan::ok();
    plan.op(DbOp::UpdateVisitor {
        visitor_id: vid.clone(),
        name,
        email,
        at: now,
    });
    s.tell(
        &mut plan,
        Audience::AllStaff(None),
        Out::VisitorUpdated,
        vec![("visitor", s.room(vid))],
    );
    plan
}
