//! Timestamps read without chrono's general format parser where a page
//! reads many: SQLite keeps them as text, and diesel tries up to eighteen
//! formats with `parse_from_str` for each value (≈ 2,000 instructions);
//! the form this application writes, `YYYY-MM-DD HH:MM:SS[.fraction]`, is
//! read directly here and anything else goes to diesel as before.
//! PostgreSQL's binary timestamps are diesel's, unchanged.
//!
//! Use it on a `Queryable` field: `#[diesel(deserialize_as = StoredTime)]`.

use chrono::{NaiveDate, NaiveDateTime, NaiveTime};
use diesel::deserialize::{self, FromSql};
use diesel::pg::Pg;
use diesel::sql_types::Timestamp;
use diesel::sqlite::{Sqlite, SqliteType};

#[derive(diesel::deserialize::FromSqlRow)]
pub struct StoredTime(NaiveDateTime);

impl StoredTime {
    /// Reads `YYYY-MM-DD HH:MM:SS[.fraction]`, as diesel writes timestamps
    /// on SQLite; anything else is `None` (and left to chrono's parser).
    pub fn parse(text: &str) -> Option<NaiveDateTime> {
        parse(text)
    }
}

impl From<StoredTime> for NaiveDateTime {
    fn from(time: StoredTime) -> Self {
        time.0
    }
}

impl FromSql<Timestamp, Sqlite> for StoredTime {
    fn from_sql(
        mut value: <Sqlite as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        if value.value_type() == Some(SqliteType::Text)
            && let Some(time) = parse(value.read_text())
        {
            return Ok(Self(time));
        }
        <NaiveDateTime as FromSql<Timestamp, Sqlite>>::from_sql(value).map(Self)
    }
}

impl FromSql<Timestamp, Pg> for StoredTime {
    fn from_sql(
        value: <Pg as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        <NaiveDateTime as FromSql<Timestamp, Pg>>::from_sql(value).map(Self)
    }
}

/// The backend of the connection chosen at run time (`DbConn`).
type Chosen = <super::DbConn as diesel::Connection>::Backend;

/// The connection chosen at run time: its backend's own reading above.
impl FromSql<Timestamp, Chosen> for StoredTime {
    fn from_sql(
        value: <Chosen as diesel::backend::Backend>::RawValue<'_>,
    ) -> deserialize::Result<Self> {
        value.from_sql::<Self, Timestamp>()
    }
}

/// `StoredTime` for a column that may be NULL:
/// `#[diesel(deserialize_as = OptionalStoredTime)]` on an
/// `Option<NaiveDateTime>` field.
pub struct OptionalStoredTime(Option<NaiveDateTime>);

impl From<OptionalStoredTime> for Option<NaiveDateTime> {
    fn from(time: OptionalStoredTime) -> Self {
        time.0
    }
}

impl<DB> diesel::Queryable<diesel::sql_types::Nullable<Timestamp>, DB> for OptionalStoredTime
where
    DB: diesel::backend::Backend,
    Option<StoredTime>:
        diesel::deserialize::FromStaticSqlRow<diesel::sql_types::Nullable<Timestamp>, DB>,
{
    type Row = Option<StoredTime>;

    fn build(row: Self::Row) -> deserialize::Result<Self> {
        Ok(Self(row.map(NaiveDateTime::from)))
    }
}

/// `YYYY-MM-DD HH:MM:SS` with an optional `.` and 1–9 digits of fraction.
fn parse(text: &str) -> Option<NaiveDateTime> {
    let b = text.as_bytes();
    if b.len() < 19
        || b[4] != b'-'
        || b[7] != b'-'
        || b[10] != b' '
        || b[13] != b':'
        || b[16] != b':'
    {
        return None;
    }
    let number = |range: std::ops::Range<usize>| -> Option<u32> {
        b.get(range)?.iter().try_fold(0u32, |n, c| {
            c.is_ascii_digit().then(|| n * 10 + u32::from(c - b'0'))
        })
    };
    let nanos = match &b[19..] {
        [] => 0,
        [b'.', digits @ ..] if (1..=9).contains(&digits.len()) => {
            number(20..b.len())? * 10u32.pow(9 - digits.len() as u32)
        }
        _ => return None,
    };
    let date = NaiveDate::from_ymd_opt(number(0..4)? as i32, number(5..7)?, number(8..10)?)?;
    let time =
        NaiveTime::from_hms_nano_opt(number(11..13)?, number(14..16)?, number(17..19)?, nanos)?;
    Some(date.and_time(time))
}
