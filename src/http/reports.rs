//! `GET /api/v1/reports` (supervisors and admins; issue 16): the team's figures over a date
//! range (`store::reports`), as JSON or (`format=csv`) as rows of `section,name,value` for a
//! spreadsheet. `since`/`until` in ms (default: the last 30 days), `tz` an IANA time zone for
//! the volume by hour (default: the business hours' zone, else UTC), `missed_after_secs` how
//! long a chat may wait for its first reply before it counts as missed (default 300).

use super::{bearer, require_staff, respond, with_app};
use crate::app::App;
use crate::error::ApiError;
use crate::model::{now_ms, Role};
use crate::settings::Settings;
use crate::store::{accounts, reports};
use http::StatusCode;
use jiff::tz::{TimeZone, TimeZoneDatabase};
use serde::Serialize;
use std::collections::HashMap;
use warp::filters::BoxedFilter;
use warp::reply::Response;
use warp::Filter;

const DAY_MS: i64 = 86_400_000;
/// The longest range one report covers.
const MAX_RANGE_MS: i64 = 366 * DAY_MS;
const DAYS: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

type Query = HashMap<String, String>;

pub fn routes(app: App) -> BoxedFilter<(Response,)> {
    warp::path!("api" / "v1" / "reports")
        .and(warp::get())
        .and(with_app(app))
        .and(bearer())
        .and(warp::query::<Query>())
        .then(|app: App, token: Option<String>, q: Query| async move {
            match report(&app, token, &q).await {
                Ok(r) if q.get("format").map(String::as_str) == Some("csv") => csv_reply(&r),
                other => respond(StatusCode::OK, other),
            }
        })
        .boxed()
}

#[derive(Serialize)]
struct Answer {
    since: i64,
    until: i64,
    time_zone: String,
    missed_after_secs: i64,
    #[serde(flatten)]
    figures: reports::Report,
    /// The agents' names, by id (`figures.agents` carries ids).
    staff_names: HashMap<String, String>,
}

fn bad(key: &str, what: &str) -> ApiError {
    ApiError::bad_request(format!("Invalid query parameter: {key} ({what})."))
}

fn ms_param(q: &Query, key: &str) -> Result<Option<i64>, ApiError> {
    super::history::int_param(q, key, 0, i64::MAX, "milliseconds since the epoch, ≥ 0")
}

async fn report(app: &App, token: Option<String>, q: &Query) -> Result<Answer, ApiError> {
    let me = require_staff(app, token).await?;
    if me.role_id == Role::Agent {
        return Err(ApiError::forbidden(
            "Only supervisors and admins can read reports.",
        ));
    }
    const KNOWN: &[&str] = &["since", "until", "tz", "missed_after_secs", "format"];
    if let Some(k) = q.keys().find(|k| !KNOWN.contains(&k.as_str())) {
        return Err(ApiError::bad_request(format!(
            "Unknown query parameter: {k} (known: {}).",
            KNOWN.join(", ")
        )));
    }
    if let Some(f) = q.get("format") {
        if f != "json" && f != "csv" {
            return Err(bad("format", "json or csv"));
        }
    }
    let until = ms_param(q, "until")?.unwrap_or_else(now_ms);
    let since = ms_param(q, "since")?.unwrap_or(until.saturating_sub(30 * DAY_MS));
    if since >= until || until - since > MAX_RANGE_MS {
        return Err(bad("since", "before until, and at most 366 days before it"));
    }
    let missed_after_secs =
        super::history::int_param(q, "missed_after_secs", 1, 86_400, "1 to 86400")?.unwrap_or(300);
    let zone_name = match q.get("tz") {
        Some(z) => z.clone(),
        None => {
            let rows = app.store.read(accounts::load_settings).await?;
            Settings::from_rows(&rows)
                .business_hours
                .map(|h| h.time_zone)
                .unwrap_or_else(|| "UTC".into())
        }
    };
    let tz: TimeZone = TimeZoneDatabase::bundled()
        .get(&zone_name)
        .map_err(|_| bad("tz", "an IANA time zone such as Europe/Berlin"))?;
    let (rows, staff) = app
        .store
        .read(move |c| {
            Ok((
                reports::chats_between(c, since, until)?,
                accounts::list_staff(c)?,
            ))
        })
        .await?;
    let now = now_ms();
    let figures = reports::figures(&rows, missed_after_secs * 1000, now, |at| {
        jiff::Timestamp::from_millisecond(at)
            .map(|t| {
                let local = t.to_zoned(tz.clone());
                (
                    local.weekday().to_monday_zero_offset() as usize,
                    local.hour() as usize,
                )
            })
            .unwrap_or((0, 0))
    });
    let staff_names = staff
        .into_iter()
        .filter(|s| figures.agents.iter().any(|a| a.staff_id == s.id.as_str()))
        .map(|s| {
            let name = s
                .display_name
                .clone()
                .unwrap_or_else(|| s.full_name.clone());
            (s.id.to_string(), name)
        })
        .collect();
    Ok(Answer {
        since,
        until,
        time_zone: zone_name,
        missed_after_secs,
        figures,
        staff_names,
    })
}

/// A CSV field: quoted when it holds a comma, a quote or a line break; a leading `=`, `+`, `-`
/// or `@` gets a `'` so no spreadsheet reads a name as a formula.
fn field(s: &str) -> String {
    let s = if s.starts_with(['=', '+', '-', '@']) {
        format!("'{s}")
    } else {
        s.to_string()
    };
    if s.contains([',', '"', '\n', '\r']) {
        format!("\"{}\"", s.replace('"', "\"\""))
    } else {
        s
    }
}

fn csv(a: &Answer) -> String {
    let r = &a.figures;
    let opt = |v: Option<i64>| v.map(|n| n.to_string()).unwrap_or_default();
    let mut out = String::from("section,name,value\n");
    let mut row = |section: &str, name: &str, value: String| {
        out.push_str(&format!(
            "{},{},{}\n",
            field(section),
            field(name),
            field(&value)
        ));
    };
    row("range", "since", a.since.to_string());
    row("range", "until", a.until.to_string());
    row("range", "time_zone", a.time_zone.clone());
    row("summary", "chats", r.chats.to_string());
    row("summary", "answered", r.answered.to_string());
    row("summary", "missed", r.missed.to_string());
    row(
        "summary",
        "first_response_ms_median",
        opt(r.first_response_ms.median),
    );
    row(
        "summary",
        "first_response_ms_p90",
        opt(r.first_response_ms.p90),
    );
    row(
        "summary",
        "time_to_close_ms_median",
        opt(r.time_to_close_ms.median),
    );
    row(
        "summary",
        "time_to_close_ms_p90",
        opt(r.time_to_close_ms.p90),
    );
    for (k, v) in &r.ratings {
        row("ratings", k, v.to_string());
    }
    for ag in &r.agents {
        let name = a.staff_names.get(&ag.staff_id).cloned().unwrap_or_default();
        row("agent_chats", &name, ag.chats.to_string());
        row(
            "agent_first_response_ms_median",
            &name,
            opt(ag.first_response_ms.median),
        );
    }
    for (d, hours) in r.volume.iter().enumerate() {
        for (h, n) in hours.iter().enumerate() {
            row("volume", &format!("{} {h:02}", DAYS[d]), n.to_string());
        }
    }
    out
}

fn csv_reply(a: &Answer) -> Response {
    let mut res = Response::new(csv(a).into());
    let h = res.headers_mut();
    h.insert(
        http::header::CONTENT_TYPE,
        http::HeaderValue::from_static("text/csv; charset=utf-8"),
    );
    h.insert(
        http::header::CONTENT_DISPOSITION,
        http::HeaderValue::from_static("attachment; filename=\"frontdesk-report.csv\""),
    );
    res
}

#[cfg(test)]
mod tests {
    use super::field;

    #[test]
    fn csv_fields_are_quoted_and_never_formulas() {
        assert_eq!(field("Ann"), "Ann");
        assert_eq!(field("Lee, Ann"), "\"Lee, Ann\"");
        assert_eq!(field("say \"hi\""), "\"say \"\"hi\"\"\"");
        assert_eq!(field("=HYPERLINK(1)"), "'=HYPERLINK(1)");
    }
}
