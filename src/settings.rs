//! Settings an admin changes in the console and over REST (`GET`/`PATCH /api/v1/settings`,
//! product.md §8.9), applied live without a restart. Stored in SQLite's `settings` table, one
//! JSON value per key: routing, assignment timeout and attempts, business hours (issue 13);
//! inactivity times, the pre-chat form and the widget's texts (issue 14). (The TOML file and
//! flags keep what an operator sets: listen, data, limits.)

use crate::hours::{BusinessHours, Schedule};
use serde::Serialize;
use serde_json::{Map, Value};
use std::sync::Arc;

/// How waiting chats find an agent (product.md §8.3).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RoutingMode {
    /// Staff claim chats themselves (the seed's behaviour).
    #[default]
    Manual,
    /// Each chat to the next available agent with free capacity, in turn.
    RoundRobin,
    /// Each chat to the available agent serving the fewest chats.
    LeastBusy,
}

impl RoutingMode {
    pub fn parse(s: &str) -> Option<RoutingMode> {
        match s {
            "manual" => Some(RoutingMode::Manual),
            "round_robin" => Some(RoutingMode::RoundRobin),
            "least_busy" => Some(RoutingMode::LeastBusy),
            _ => None,
        }
    }
}

pub const ASSIGN_TIMEOUT_SECS: std::ops::RangeInclusive<u64> = 5..=3600;
pub const ASSIGN_MAX_ATTEMPTS: std::ops::RangeInclusive<u64> = 1..=20;
/// Inactivity times: 0 is off.
pub const INACTIVITY_SECS: std::ops::RangeInclusive<u64> = 0..=86_400;
/// Retention: at least a day, at most a hundred years (`null`: keep forever).
pub const RETENTION_DAYS: std::ops::RangeInclusive<u64> = 1..=36_500;
pub const MAX_WIDGET_TEXTS: usize = 200;
pub const MAX_WIDGET_TEXT_CHARS: usize = 500;

/// Whether the pre-chat form asks for a detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Ask {
    Off,
    Optional,
    Required,
}

/// The pre-chat form (product.md §8.8): shown by the widget before the first message, and
/// enforced here: with a required detail missing, the first message of a chat is refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, serde::Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Prechat {
    pub enabled: bool,
    pub name: Ask,
    pub email: Ask,
}

impl Default for Prechat {
    fn default() -> Prechat {
        Prechat {
            enabled: false,
            name: Ask::Optional,
            email: Ask::Optional,
        }
    }
}

#[derive(Debug, Clone, Serialize)]
pub struct Settings {
    pub routing: RoutingMode,
    /// An automatically assigned agent who writes nothing in the chat for this long loses it
    /// to the next one.
    pub assign_timeout_secs: u64,
    /// How many agents a chat is offered to before it just waits.
    pub assign_max_attempts: u64,
    /// `None`: always open.
    pub business_hours: Option<BusinessHours>,
    /// `business_hours`, checked and ready to ask.
    #[serde(skip)]
    pub schedule: Option<Arc<Schedule>>,
    /// A claimed chat in which nobody wrote for this long is warned (0: never).
    pub inactivity_warning_secs: u64,
    /// ... and closed after this long (0: never).
    pub inactivity_close_secs: u64,
    pub prechat: Prechat,
    /// Overrides of the widget's texts, by key.
    pub widget_texts: std::collections::BTreeMap<String, String>,
    /// The widget's appearance (issue 15); the embed's `data-*` attributes win over it.
    pub widget: WidgetLook,
    /// Ended chats older than this many days are deleted, with everything of them, once a
    /// day (`store/privacy.rs`, `run_retention`); `None`: kept forever.
    pub retention_days: Option<u64>,
    /// SMTP, the sender and the staff notification list (src/email/settings.rs).
    #[serde(flatten)]
    pub email: crate::email::settings::EmailSettings,
}

impl Default for Settings {
    fn default() -> Settings {
        Settings {
            routing: RoutingMode::Manual,
            assign_timeout_secs: 30,
            assign_max_attempts: 3,
            business_hours: None,
            schedule: None,
            inactivity_warning_secs: 0,
            inactivity_close_secs: 0,
            prechat: Prechat::default(),
            widget_texts: Default::default(),
            widget: WidgetLook::default(),
            retention_days: None,
            email: Default::default(),
        }
    }
}

/// A refused change: one sentence naming the key.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Invalid(pub String);

impl Settings {
    /// These settings with `patch` applied: every key checked, nothing applied if one is bad.
    pub fn patched(&self, patch: &Map<String, Value>) -> Result<Settings, Invalid> {
        let mut next = self.clone();
        for (key, value) in patch {
            match key.as_str() {
                "routing" => {
                    next.routing = value.as_str().and_then(RoutingMode::parse).ok_or_else(|| {
                        Invalid(
                            "routing: must be \"manual\", \"round_robin\" or \"least_busy\"."
                                .into(),
                        )
                    })?
                }
                "assign_timeout_secs" => {
                    next.assign_timeout_secs = int_in(key, value, ASSIGN_TIMEOUT_SECS)?
                }
                "assign_max_attempts" => {
                    next.assign_max_attempts = int_in(key, value, ASSIGN_MAX_ATTEMPTS)?
                }
                "business_hours" => {
                    if value.is_null() {
                        next.business_hours = None;
                        next.schedule = None;
                    } else {
                        let hours: BusinessHours =
                            serde_json::from_value(value.clone()).map_err(|e| {
                                Invalid(format!(
                                    "business_hours: expected {{\"time_zone\": \"Europe/Berlin\", \
                                     \"weekly\": [{{\"day\": \"mon\", \"open\": \"09:00\", \
                                     \"close\": \"17:00\"}}]}} ({e})."
                                ))
                            })?;
                        let schedule =
                            Schedule::parse(&hours).map_err(|e| Invalid(e.to_string()))?;
                        next.business_hours = Some(hours);
                        next.schedule = Some(Arc::new(schedule));
                    }
                }
                "inactivity_warning_secs" => {
                    next.inactivity_warning_secs = int_in(key, value, INACTIVITY_SECS)?
                }
                "inactivity_close_secs" => {
                    next.inactivity_close_secs = int_in(key, value, INACTIVITY_SECS)?
                }
                "prechat" => {
                    next.prechat = serde_json::from_value(value.clone()).map_err(|_| {
                        Invalid(
                            "prechat: expected {\"enabled\": true, \"name\": \"optional\", \
                             \"email\": \"required\"} (each of name and email \"off\", \
                             \"optional\" or \"required\")."
                                .into(),
                        )
                    })?
                }
                "widget_texts" => next.widget_texts = widget_texts(value)?,
                "widget" => next.widget = next.widget.merged(value)?,
                "retention_days" if value.is_null() => next.retention_days = None,
                "retention_days" => next.retention_days = Some(int_in(key, value, RETENTION_DAYS)?),
                k if crate::email::settings::KEYS.contains(&k) => next.email.patch(key, value)?,
                other => return Err(Invalid(format!("{other}: there is no such setting."))),
            }
        }
        let (warn, close) = (next.inactivity_warning_secs, next.inactivity_close_secs);
        if warn > 0 && close > 0 && warn >= close {
            return Err(Invalid(
                "inactivity_close_secs: must be longer than inactivity_warning_secs.".into(),
            ));
        }
        Ok(next)
    }

    /// The stored form: `(key, JSON)` per setting.
    pub fn to_rows(&self) -> Vec<(&'static str, String)> {
        let json = |v: Value| v.to_string();
        let mut rows = vec![
            ("routing", json(serde_json::json!(self.routing))),
            ("assign_timeout_secs", json(self.assign_timeout_secs.into())),
            ("assign_max_attempts", json(self.assign_max_attempts.into())),
            (
                "business_hours",
                json(serde_json::to_value(&self.business_hours).unwrap_or(Value::Null)),
            ),
            (
                "inactivity_warning_secs",
                json(self.inactivity_warning_secs.into()),
            ),
            (
                "inactivity_close_secs",
                json(self.inactivity_close_secs.into()),
            ),
            ("prechat", json(serde_json::json!(self.prechat))),
            ("widget_texts", json(serde_json::json!(self.widget_texts))),
            ("widget", json(serde_json::json!(self.widget))),
            (
                "retention_days",
                json(serde_json::json!(self.retention_days)),
            ),
        ];
        rows.extend(self.email.rows());
        rows
    }

    /// The details the pre-chat form still wants from a visitor (empty: none, or the form is
    /// off).
    pub fn prechat_missing(&self, has_name: bool, has_email: bool) -> Vec<&'static str> {
        let p = &self.prechat;
        let mut missing = vec![];
        if p.enabled && p.name == Ask::Required && !has_name {
            missing.push("name");
        }
        if p.enabled && p.email == Ask::Required && !has_email {
            missing.push("email");
        }
        missing
    }

    /// From the stored rows (other keys are ignored; a stored value that no longer passes the
    /// checks keeps its default, with a warning).
    pub fn from_rows(rows: &[(String, String)]) -> Settings {
        let mut s = Settings::default();
        for (key, raw) in rows {
            let Ok(value) = serde_json::from_str::<Value>(raw) else {
                continue;
            };
            if !KEYS.contains(&key.as_str()) {
                continue;
            }
            let mut one = Map::new();
            one.insert(key.clone(), value);
            match s.patched(&one) {
                Ok(next) => s = next,
                Err(Invalid(why)) => tracing::warn!(%why, "stored setting ignored"),
            }
        }
        s
    }
}

/// Every setting's key.
pub const KEYS: &[&str] = &[
    "routing",
    "assign_timeout_secs",
    "assign_max_attempts",
    "business_hours",
    "inactivity_warning_secs",
    "inactivity_close_secs",
    "prechat",
    "widget_texts",
    "widget",
    "retention_days",
    "smtp_url",
    "email_from",
    "notify_emails",
    "email_reply_after_secs",
];

fn widget_texts(value: &Value) -> Result<std::collections::BTreeMap<String, String>, Invalid> {
    let bad = |why: String| Invalid(format!("widget_texts: {why}"));
    let map = value
        .as_object()
        .ok_or_else(|| bad("expected an object of {\"key\": \"text\"}.".into()))?;
    if map.len() > MAX_WIDGET_TEXTS {
        return Err(bad(format!("at most {MAX_WIDGET_TEXTS} texts.")));
    }
    let mut out = std::collections::BTreeMap::new();
    for (k, v) in map {
        let good_key = !k.is_empty()
            && k.len() <= 64
            && k.bytes()
                .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'_');
        if !good_key {
            return Err(bad(format!(
                "{:?} is not a text key (a-z, 0-9 and _, at most 64).",
                k.chars().take(64).collect::<String>()
            )));
        }
        let text = v
            .as_str()
            .filter(|t| t.chars().count() <= MAX_WIDGET_TEXT_CHARS)
            .ok_or_else(|| {
                bad(format!(
                    "{k}: expected a text of at most {MAX_WIDGET_TEXT_CHARS} characters."
                ))
            })?;
        out.insert(k.clone(), text.to_string());
    }
    Ok(out)
}

pub const WIDGET_LANGUAGES: &[&str] = &["auto", "en", "de", "fr", "es"];
pub const MAX_WIDGET_TITLE_CHARS: usize = 80;
pub const MAX_WIDGET_GREETING_CHARS: usize = 500;
pub const MAX_LAUNCHER_TEXT_CHARS: usize = 40;

/// The widget's appearance (setting `widget`, product.md §8.9): sent to every widget by
/// `GET /api/v1/availability`, so a change shows on every website at its next page view. Empty
/// texts mean "the widget's own words in the visitor's language"; an empty launcher text is the
/// round icon button.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct WidgetLook {
    /// `#rgb` or `#rrggbb`.
    pub color: String,
    pub title: String,
    pub greeting: String,
    /// `"right"` or `"left"`.
    pub position: String,
    /// `"auto"` (the visitor's browser) or one of the widget's languages.
    pub language: String,
    pub launcher_text: String,
}

impl Default for WidgetLook {
    fn default() -> WidgetLook {
        WidgetLook {
            color: "#2f6fed".into(),
            title: String::new(),
            greeting: String::new(),
            position: "right".into(),
            language: "auto".into(),
            launcher_text: String::new(),
        }
    }
}

impl WidgetLook {
    /// This look with the fields of `value` (an object, any subset of the fields) merged over
    /// it: a field left out keeps its value. Every field is checked; the refusal has one
    /// sentence per bad field, each naming it (`widget.color: …`), and nothing changes.
    pub fn merged(&self, value: &Value) -> Result<WidgetLook, Invalid> {
        let map = value.as_object().ok_or_else(|| {
            Invalid(
                "widget: expected an object like {\"color\": \"#2f6fed\", \"position\": \"right\"}."
                    .into(),
            )
        })?;
        let mut next = self.clone();
        let mut bad: Vec<String> = vec![];
        for (field, v) in map {
            let text = |max: usize| {
                v.as_str()
                    .filter(|t| t.chars().count() <= max && !t.chars().any(char::is_control))
                    .map(|t| t.trim().to_string())
                    .ok_or_else(|| {
                        format!("widget.{field}: expected a text of at most {max} characters on one line.")
                    })
            };
            let one_of = |allowed: &[&str]| {
                v.as_str()
                    .filter(|t| allowed.contains(t))
                    .map(str::to_string)
                    .ok_or_else(|| {
                        format!(
                            "widget.{field}: must be {}.",
                            allowed
                                .iter()
                                .map(|a| format!("\"{a}\""))
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    })
            };
            let checked = match field.as_str() {
                "color" => v
                    .as_str()
                    .filter(|c| is_hex_colour(c))
                    .map(|c| c.to_ascii_lowercase())
                    .ok_or_else(|| "widget.color: expected a colour like #2f6fed.".to_string())
                    .map(|c| next.color = c),
                "title" => text(MAX_WIDGET_TITLE_CHARS).map(|t| next.title = t),
                "greeting" => v
                    .as_str()
                    .filter(|t| t.chars().count() <= MAX_WIDGET_GREETING_CHARS)
                    .map(|t| next.greeting = t.trim().to_string())
                    .ok_or_else(|| {
                        format!(
                            "widget.greeting: expected a text of at most \
                             {MAX_WIDGET_GREETING_CHARS} characters."
                        )
                    }),
                "position" => one_of(&["right", "left"]).map(|p| next.position = p),
                "language" => one_of(WIDGET_LANGUAGES).map(|l| next.language = l),
                "launcher_text" => text(MAX_LAUNCHER_TEXT_CHARS).map(|t| next.launcher_text = t),
                other => Err(format!(
                    "widget.{}: there is no such field (color, title, greeting, position, \
                     language, launcher_text).",
                    other.chars().take(64).collect::<String>()
                )),
            };
            if let Err(why) = checked {
                bad.push(why);
            }
        }
        if bad.is_empty() {
            Ok(next)
        } else {
            Err(Invalid(bad.join(" ")))
        }
    }
}

/// `#rgb` or `#rrggbb`.
fn is_hex_colour(c: &str) -> bool {
    let Some(hex) = c.strip_prefix('#') else {
        return false;
    };
    (hex.len() == 3 || hex.len() == 6) && hex.bytes().all(|b| b.is_ascii_hexdigit())
}

fn int_in(key: &str, value: &Value, range: std::ops::RangeInclusive<u64>) -> Result<u64, Invalid> {
    value.as_u64().filter(|n| range.contains(n)).ok_or_else(|| {
        Invalid(format!(
            "{key}: must be a whole number from {} to {}.",
            range.start(),
            range.end()
        ))
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn patch(v: Value) -> Result<Settings, Invalid> {
        Settings::default().patched(v.as_object().unwrap())
    }

    /// The settings as stored, read back.
    fn stored_and_read(s: &Settings) -> Settings {
        let rows: Vec<(String, String)> = s
            .to_rows()
            .into_iter()
            .map(|(k, v)| (k.to_string(), v))
            .collect();
        Settings::from_rows(&rows)
    }

    #[test]
    fn good_values_apply_and_round_trip_through_rows() {
        let s = patch(json!({"routing": "least_busy", "assign_timeout_secs": 5,
            "assign_max_attempts": 2,
            "business_hours": {"time_zone": "Europe/Berlin",
                "weekly": [{"day": "mon", "open": "09:00", "close": "17:00"}]}}))
        .unwrap();
        assert_eq!(s.routing, RoutingMode::LeastBusy);
        assert!(s.schedule.is_some());
        let back = stored_and_read(&s);
        assert_eq!(back.routing, RoutingMode::LeastBusy);
        assert_eq!(back.assign_timeout_secs, 5);
        assert_eq!(back.assign_max_attempts, 2);
        assert_eq!(back.business_hours, s.business_hours);
        assert!(back.schedule.is_some());

        let s = patch(
            json!({"inactivity_warning_secs": 60, "inactivity_close_secs": 120,
            "prechat": {"enabled": true, "name": "off", "email": "required"},
            "widget_texts": {"title": "Hallo", "send": "Senden"}}),
        )
        .unwrap();
        let back = stored_and_read(&s);
        assert_eq!(back.inactivity_warning_secs, 60);
        assert_eq!(back.inactivity_close_secs, 120);
        assert_eq!(back.prechat, s.prechat);
        assert_eq!(back.widget_texts, s.widget_texts);
        assert_eq!(back.prechat_missing(false, false), vec!["email"]);
        assert!(back.prechat_missing(false, true).is_empty());
    }

    #[test]
    fn bad_values_name_their_key_and_change_nothing() {
        for (body, key) in [
            (json!({"routing": "random"}), "routing"),
            (json!({"assign_timeout_secs": -1}), "assign_timeout_secs"),
            (json!({"assign_timeout_secs": 4}), "assign_timeout_secs"),
            (json!({"assign_max_attempts": "3"}), "assign_max_attempts"),
            (json!({"colour": "red"}), "colour"),
            (
                json!({"business_hours": {"time_zone": "Mars/Olympus", "weekly": []}}),
                "business_hours",
            ),
            (json!({"business_hours": 7}), "business_hours"),
            (
                json!({"inactivity_close_secs": 86_401}),
                "inactivity_close_secs",
            ),
            (
                json!({"inactivity_warning_secs": 60, "inactivity_close_secs": 60}),
                "inactivity_close_secs",
            ),
            (json!({"prechat": {"enabled": true}}), "prechat"),
            (
                json!({"prechat": {"enabled": true, "name": "maybe", "email": "off"}}),
                "prechat",
            ),
            (json!({"widget_texts": {"Bad Key": "x"}}), "widget_texts"),
            (json!({"widget_texts": {"title": 3}}), "widget_texts"),
            (json!({"widget_texts": []}), "widget_texts"),
            (
                json!({"routing": "round_robin", "assign_max_attempts": 0}),
                "assign_max_attempts",
            ),
        ] {
            let Err(Invalid(why)) = patch(body.clone()) else {
                panic!("{body} accepted");
            };
            assert!(why.starts_with(key), "{body}: {why}");
        }
    }
}
