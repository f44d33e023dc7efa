//! Visitor context (product.md §8.8): the widget sends `visitor_page {url, title, referrer?,
//! language?, time_zone?, user_agent?}` on every page view; every console hears
//! `visitor_page_viewed {visitor, page, pages, context}` (the last pages are kept in memory by
//! `state/visits.rs` and come back in `staff_init.visitor_pages`).

use super::{Args, Family, Sender};
use crate::live::plan::*;
use crate::live::state::views::raw;
use crate::live::state::visits::{Context, Page};
use crate::live::state::LiveState;

pub const MAX_URL: usize = 2048;
pub const MAX_TITLE_CHARS: usize = 300;

#[derive(Debug, Clone)]
pub enum Visits {
    Page {
        url: String,
        title: String,
        referrer: String,
        context: Context,
    },
}

fn web_url(u: &str) -> bool {
    u.len() <= MAX_URL
        && (u.starts_with("https://") || u.starts_with("http://"))
        && !u.chars().any(|c| c.is_whitespace() || c.is_control())
}

pub fn parse_page(a: &Args) -> Result<Family, Refusal> {
    let f = a.fields("url")?;
    let text = |key: &str, max: usize, required: bool| -> Result<Option<String>, Refusal> {
        match f.get(key) {
            None if !required => Ok(None),
            Some(raw) if !required && raw.get().trim() == "null" => Ok(None),
            raw => raw
                .and_then(|r| serde_json::from_str::<String>(r.get()).ok())
                .filter(|t| t.chars().count() <= max && !t.chars().any(char::is_control))
                .map(Some)
                .ok_or_else(|| Refusal::invalid(key)),
        }
    };
    let url = text("url", MAX_URL, true)?.unwrap_or_default();
    if !web_url(&url) {
        return Err(Refusal::invalid("url"));
    }
    let title = text("title", MAX_TITLE_CHARS, false)?.unwrap_or_default();
    let referrer = text("referrer", MAX_URL, false)?.unwrap_or_default();
    if !referrer.is_empty() && !web_url(&referrer) {
        return Err(Refusal::invalid("referrer"));
    }
    let context = Context {
        language: text("language", 35, false)?.filter(|t| !t.is_empty()),
        time_zone: text("time_zone", 64, false)?.filter(|t| !t.is_empty()),
        user_agent: text("user_agent", 512, false)?.filter(|t| !t.is_empty()),
    };
    Ok(Family::Visits(Visits::Page {
        url,
        title,
        referrer,
        context,
    }))
}

impl Visits {
    pub fn apply(self, s: &mut LiveState, by: &Sender, now: i64) -> Plan {
        let vid = match by.visitor() {
            Ok(v) => v.clone(),
            Err(refused) => return Plan::err(refused),
        };
        let Visits::Page {
            url,
            title,
            referrer,
            context,
        } = self;
        let page = Page {
            url,
            title,
            referrer,
            at: now,
        };
        let visit = s.visits.viewed(&vid, page.clone(), context);
        let payload = vec![
            ("visitor", raw(&vid)),
            ("page", raw(&page)),
            ("pages", raw(&visit.pages)),
            ("context", raw(&visit.context)),
        ];
        let mut plan = Plan::ok();
        s.tell(
            &mut plan,
            Audience::AllStaff(None),
            Out::VisitorPageViewed,
            payload,
        );
        plan
    }
}
