//! Times and dates as readers see them, in their language and timezone,
//! and the fast reading of stored timestamps, checked against chrono.

use chrono::{NaiveDate, NaiveDateTime};
use confer::db::StoredTime;
use confer::i18n::{Lang, Tr};
use confer::pages;

#[test]
fn iso_times_read_as_chrono_writes_them() {
    let at = NaiveDate::from_ymd_opt(2026, 3, 5)
        .and_then(|day| day.and_hms_opt(9, 7, 3))
        .unwrap_or_default();
    assert_eq!(
        pages::iso_utc(at),
        at.format("%Y-%m-%dT%H:%M:%SZ").to_string()
    );
}

#[test]
fn list_times_read_at_a_glance() {
    let at = |y, mo, d, h, mi| {
        NaiveDate::from_ymd_opt(y, mo, d)
            .and_then(|day| day.and_hms_opt(h, mi, 0))
            .unwrap_or_default()
    };
    let now = at(2026, 12, 5, 12, 0);
    let en = Tr::new(Lang::En);
    let utc = chrono_tz::UTC;
    for (then, expected) in [
        (at(2026, 12, 5, 12, 0), "just now"),
        (at(2026, 12, 5, 11, 55), "5 min"),
        (at(2026, 12, 5, 8, 30), "3 h"),
        (at(2026, 12, 4, 23, 0), "yesterday"),
        (at(2026, 12, 1, 9, 0), "4 d"),
        (at(2026, 3, 5, 9, 0), "05 Mar"),
        (at(2025, 3, 5, 9, 0), "05 Mar 2025"),
    ] {
        assert_eq!(pages::relative_time(then, now, utc, en), expected);
    }
    // Days are the reader's: 17:00 on the 4th in Los Angeles is yesterday there.
    let la = chrono_tz::America::Los_Angeles;
    assert_eq!(
        pages::relative_time(at(2026, 12, 5, 1, 0), now, la, en),
        "yesterday"
    );
    assert_eq!(
        pages::relative_time(at(2026, 11, 25, 9, 0), now, utc, Tr::new(Lang::De)),
        "25. Nov."
    );
    assert_eq!(
        pages::relative_time(at(2026, 12, 4, 9, 0), now, utc, Tr::new(Lang::Es)),
        "ayer"
    );
    let day = at(2026, 11, 30, 0, 0).date();
    assert_eq!(pages::format_date(day, en), "30 Nov 2026");
    assert_eq!(pages::format_date(day, Tr::new(Lang::Es)), "30 nov 2026");
    assert_eq!(pages::format_date(day, Tr::new(Lang::De)), "30. Nov. 2026");
}

#[test]
fn times_read_as_chrono_would_write_them_in_the_readers_timezone() {
    for (tz, (y, mo, d, h, mi)) in [
        (chrono_tz::UTC, (2026, 11, 22, 18, 40)),
        (chrono_tz::Europe::Berlin, (2026, 3, 29, 0, 59)),
        (chrono_tz::America::Los_Angeles, (2027, 1, 1, 7, 5)),
        (chrono_tz::Asia::Kolkata, (2026, 12, 31, 23, 45)),
    ] {
        let Some(at) = NaiveDate::from_ymd_opt(y, mo, d).and_then(|day| day.and_hms_opt(h, mi, 30))
        else {
            panic!("{y}-{mo}-{d} {h}:{mi} is a time");
        };
        let expected = at
            .and_utc()
            .with_timezone(&tz)
            .format("%d %b %Y, %H:%M")
            .to_string();
        assert_eq!(pages::format_datetime(at, tz, Tr::new(Lang::En)), expected);
    }
}

#[test]
fn stored_times_read_as_diesel_writes_them_and_refuse_the_rest() {
    for text in [
        "2026-12-04 10:00:00",
        "2026-12-04 10:00:00.5",
        "2026-12-04 23:59:59.873567450",
        "1999-01-31 00:00:01.000001",
    ] {
        assert_eq!(
            StoredTime::parse(text),
            NaiveDateTime::parse_from_str(text, "%F %T%.f").ok(),
            "{text}"
        );
    }
    for text in [
        "2026-12-04T10:00:00",
        "2026-13-04 10:00:00",
        "2026-12-04 10:00",
        "2026-12-04 10:00:00.",
        "2026-12-04 10:00:00.1234567890",
        "2026-12-04 10:00:00+02:00",
        "2460000.5",
    ] {
        assert_eq!(StoredTime::parse(text), None, "{text}");
    }
}
