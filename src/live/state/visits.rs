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

/// A visit as `staff_init` shows it.
#[derive(Serialize)]
pub struct VisitView<'a> {
    pub pages: Vec<&'a Page>,
    pub context: &'a Context,
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

    /// What a console starts with: the last pages of visitors with an open chat, and only
    /// the current page of the others (with 10,000 visitors browsing, `staff_init` stays
    /// small; each later page view comes with the last pages).
    pub fn for_consoles<'a>(
        &'a self,
        rooms: &super::rooms::Rooms,
    ) -> HashMap<&'a VisitorId, VisitView<'a>> {
        self.by_visitor
            .iter()
            .map(|(vid, v)| {
                let keep = if rooms.contains(vid) {
                    v.pages.len()
                } else {
                    1
                };
                let pages: Vec<&Page> = v
                    .pages
                    .iter()
                    .skip(v.pages.len().saturating_sub(keep))
                    .collect();
                (
                    vid,
                    VisitView {
                        pages,
                        context: &v.context,
                    },
                )
            })
            .collect()
    }

    pub fn forget(&mut self, vid: &str) {
        self.by_visitor.remove(vid);
    }
}
