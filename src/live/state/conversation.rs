//! Rules of the conversation beyond the seed (product.md §8.6–8.8) that are not one client
//! event: files sent over HTTP, the pre-chat form's check, inactivity (warned, then closed,
//! checked on each tick), canned replies, and what a widget asks before it starts.

use super::views::raw;
use super::LiveState;
use crate::live::events::{By, Posted};
use crate::live::plan::*;
use crate::model::{ChatId, VisitorId};
use crate::settings::{Prechat, WidgetLook};
use serde::Serialize;
use std::collections::BTreeMap;

/// `GET /api/v1/availability`: what the widget needs before a visitor exists.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Welcome {
    pub available: bool,
    pub opens_at: Option<i64>,
    pub prechat: Prechat,
    /// The business's overrides of the widget's texts (`widget_texts`).
    pub texts: BTreeMap<String, String>,
    /// Who is there to answer (while `available`): the faces the widget shows before a chat.
    pub team: Vec<Face>,
    /// The widget's appearance (setting `widget`): the embed's `data-*` attributes win over it.
    pub widget: WidgetLook,
}

/// An available staff member as a visitor may see them before a chat: name, title, photo.
#[derive(Debug, Clone, Serialize)]
pub struct Face {
    pub name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub title: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub avatar_url: Option<String>,
}

/// At most this many faces (the widget shows a row of them).
pub const MAX_FACES: usize = 5;

/// A canned reply as consoles get it.
#[derive(Serialize)]
struct CannedView<'a> {
    id: &'a str,
    shortcut: &'a str,
    text: &'a str,
}

pub const PRECHAT_REQUIRED: &str = "Please fill in the form first: ";

impl LiveState {
    pub fn welcome(&self, now: i64) -> Welcome {
        let (available, opens_at) = self.availability(now);
        let mut team: Vec<Face> = if available {
            self.on_duty()
                .map(|(s, _)| Face {
                    name: s
                        .display_name
                        .clone()
                        .unwrap_or_else(|| s.full_name.clone()),
                    title: s.title.clone(),
                    avatar_url: s.avatar_url.clone(),
                })
                .collect()
        } else {
            vec![]
        };
        // Those with a photo first, then by name: the same row on every page view.
        team.sort_by(|a, b| {
            (a.avatar_url.is_none(), &a.name).cmp(&(b.avatar_url.is_none(), &b.name))
        });
        team.truncate(MAX_FACES);
        Welcome {
            available,
            opens_at,
            prechat: self.settings.prechat,
            texts: self.settings.widget_texts.clone(),
            team,
            widget: self.settings.widget.clone(),
        }
    }

    /// A file on disk becomes a `type_id` 2 message of `by` in the chat (messages.rs decides).
    pub fn post(&mut self, by: &By, chat_id: &ChatId, posted: Posted, now: i64) -> Plan {
        let mut plan = crate::live::events::messages::post(self, by, chat_id, posted, now);
        if matches!(plan.reply, Some(Ok(()))) {
            self.route(&mut plan, now);
        }
        plan
    }

    /// With the pre-chat form on, a visitor who has not given a required detail cannot start
    /// a chat: the refusal names what is missing.
    pub(crate) fn prechat_missing(&self, vid: &VisitorId) -> Option<Refusal> {
        let v = self.roster.visitor(vid)?;
        let has_name = !v.is_anonymous && !v.name.trim().is_empty();
        let has_email = v.email.as_deref().is_some_and(|e| !e.is_empty());
        let missing = self.settings.prechat_missing(has_name, has_email);
        if missing.is_empty() {
            return None;
        }
        Some(Refusal::new(
            Code::PrechatRequired,
            format!("{PRECHAT_REQUIRED}{}.", missing.join(", ")),
        ))
    }

    /// The canned replies as `staff_init` and `canned_replies_changed` carry them.
    pub(crate) fn canned_part(&self) -> Part {
        let list: Vec<CannedView> = self
            .canned
            .iter()
            .map(|c| CannedView {
                id: &c.id,
                shortcut: &c.shortcut,
                text: &c.text,
            })
            .collect();
        raw(&list)
    }

    /// An admin changed the canned replies: every console gets the new list.
    pub fn set_canned(&mut self, list: Vec<crate::store::canned::Canned>) -> Plan {
        self.canned = list;
        let mut plan = Plan::default();
        self.tell(
            &mut plan,
            Audience::AllStaff(None),
            Out::CannedRepliesChanged,
            vec![("canned_replies", self.canned_part())],
        );
        plan
    }

    /// Inactivity (product.md §8.8): a claimed chat in which nobody wrote for
    /// `inactivity_warning_secs` is warned (`chat_timeout_warning`), and after
    /// `inactivity_close_secs` closed (`chat_closed_inactive`, then as if the visitor left).
    /// Called on each tick; nothing to do while both are off.
    pub(crate) fn check_idle(&mut self, plan: &mut Plan, now: i64) {
        let warn_ms = self.settings.inactivity_warning_secs as i64 * 1000;
        let close_ms = self.settings.inactivity_close_secs as i64 * 1000;
        if warn_ms == 0 && close_ms == 0 {
            return;
        }
        let mut to_warn = vec![];
        let mut to_close = vec![];
        for (vid, chat) in self.rooms.iter() {
            if chat.status != ChatStatus::Claimed {
                continue;
            }
            let idle = now - chat.last_activity;
            if close_ms > 0 && idle >= close_ms {
                to_close.push(vid.clone());
            } else if warn_ms > 0 && idle >= warn_ms && !chat.warned {
                let left = if close_ms > 0 {
                    Some((close_ms - idle + 999) / 1000)
                } else {
                    None
                };
                to_warn.push((vid.clone(), left));
            }
        }
        for (vid, seconds_left) in to_warn {
            if let Some(chat) = self.rooms.get_mut(&vid) {
                chat.warned = true;
            }
            self.tell(
                plan,
                Audience::Room(&vid, None),
                Out::ChatTimeoutWarning,
                vec![("visitor", raw(&vid)), ("seconds_left", raw(&seconds_left))],
            );
        }
        for vid in to_close {
            self.tell(
                plan,
                Audience::Room(&vid, None),
                Out::ChatClosedInactive,
                vec![("visitor", raw(&vid))],
            );
            self.system_message(plan, &vid, None, "closed inactive", now);
            self.end_by_visitor(plan, &vid, now);
        }
    }
}
