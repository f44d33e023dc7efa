//! Unit tests of business hours: boundaries, several slots, overnight, DST changes.
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
