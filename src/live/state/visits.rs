//! Visits: what each connected visitor is looking at (`visitor_page`, product.md §8.8) — the
//! last pages they viewed and their browser's language, time zone and user agent. Kept in
//! memory only, for visitors connected or within their grace; forgotten when they go.

use crate::model::VisitorId;
use serde::Serialize;
use std::collections::{HashMap, VecDeque};

/// Pages kept per visitor.
pub const PAGES_KEPT: usize = 10;

#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Page {
    pub url: String,
    pub title: String,
    pub referrer: String,
    pub at: i64,
}

/// The visitor's browser, as it says.
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct Context {
    pub language: Option<String>,
    pub time_zone: Option<String>,
    pub user_agent: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Visit {
    /// Oldest first; the last one is the current page.
    pub pages: VecDeque<Page>,
    pub context: Context,
}

#[derive(Default)]
pub struct Visits {
    by_visitor: HashMap<VisitorId, Visit>,
}

impl Visits {
    /// A page view: at most `PAGES_KEPT` pages are kept; context fields given replace the old.
    pub fn viewed(&mut self, vid: &VisitorId, page: Page, context: Context) -> &Visit {
        let v = self.by_visitor.entry(vid.clone()).or_default();
        if v.pages.len() == PAGES_KEPT {
            v.pages.pop_front();
        }
        v.pages.push_back(page);
        let c = &mut v.context;
        c.language = context.language.or(c.language.take());
        c.time_zone = context.time_zone.or(c.time_zone.take());
        c.user_agent = context.user_agent.or(c.user_agent.take());
        v
    }

    pub fn all(&self) -> &HashMap<VisitorId, Visit> {
        &self.by_visitor
    }

    pub fn forget(&mut self, vid: &str) {
        self.by_visitor.remove(vid);
    }
}
