//! Reporting figures, each computed by aggregate SQL in the database (no
//! rows are loaded into memory to be counted): conversations opened and
//! closed per day, first-response and resolution times (median and p90 by
//! nearest rank, sorted by the database), the backlog by status, and tables
//! per agent, per team and per collaborator. Days are UTC days; times are
//! calendar time (business hours are not taken out).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text, Timestamp};

use crate::db::DbConn;

/// What a report covers: whole UTC days `from..=to`, optionally one team.
#[derive(Clone, Debug)]
pub struct Range {
    pub from: NaiveDate,
    pub to: NaiveDate,
    pub team: Option<i64>,
}

impl Range {
    fn start(&self) -> NaiveDateTime {
        self.from.and_hms_opt(0, 0, 0).unwrap_or_default()
    }

    /// The first moment after the range.
    fn end(&self) -> NaiveDateTime {
        self.to
            .succ_opt()
            .unwrap_or(self.to)
            .and_hms_opt(0, 0, 0)
            .unwrap_or_default()
    }

    /// `AND c.team_id = N` (an integer, safe inline), or nothing.
    fn team_sql(&self) -> String {
        self.team
            .map(|t| format!(" AND c.team_id = {t}"))
            .unwrap_or_default()
    }

    pub fn days(&self) -> Vec<NaiveDate> {
        self.from
            .iter_days()
            .take_while(|d| *d <= self.to)
            .collect()
    }
}

/// SQL differing between the two databases.
struct Dialect {
    /// The UTC day of a timestamp column as `YYYY-MM-DD`.
    day: fn(&str) -> String,
    /// Seconds from one timestamp to another.
    seconds: fn(&str, &str) -> String,
}

fn dialect(conn: &DbConn) -> Dialect {
    match conn {
        DbConn::Sqlite(_) => Dialect {
            day: |col| format!("strftime('%Y-%m-%d', {col})"),
            seconds: |from, to| {
                format!("CAST(ROUND((julianday({to}) - julianday({from})) * 86400) AS REAL)")
            },
        },
        DbConn::Postgresql(_) => Dialect {
            day: |col| format!("to_char({col}, 'YYYY-MM-DD')"),
            seconds: |from, to| {
                format!("CAST(EXTRACT(EPOCH FROM ({to} - {from})) AS DOUBLE PRECISION)")
            },
        },
    }
}

/// Writes `?` placeholders the way the connection's database wants them
/// (PostgreSQL numbers them). The SQL here has no other `?`.
fn placeholders(conn: &DbConn, sql: &str) -> String {
    match conn {
        DbConn::Sqlite(_) => sql.to_string(),
        DbConn::Postgresql(_) => {
            let mut out = String::with_capacity(sql.len() + 8);
            let mut n = 0;
            for c in sql.chars() {
                if c == '?' {
                    n += 1;
                    out.push_str(&format!("${n}"));
                } else {
                    out.push(c);
                }
            }
            out
        }
    }
}

#[derive(QueryableByName)]
struct DayCount {
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// (day, opened, closed) for every day of the range, zeros included.
pub fn per_day(conn: &mut DbConn, range: &Range) -> QueryResult<Vec<(NaiveDate, i64, i64)>> {
    let d = dialect(conn);
    let team = range.team_sql();
    let count = |conn: &mut DbConn, column: &str, extra: &str| -> QueryResult<Vec<DayCount>> {
        let sql = format!(
            "SELECT {day} AS day, COUNT(*) AS n FROM conversations c \
             WHERE c.{column} >= ? AND c.{column} < ?{extra}{team} GROUP BY {day}",
            day = (d.day)(&format!("c.{column}")),
        );
        diesel::sql_query(placeholders(conn, &sql))
            .bind::<Timestamp, _>(range.start())
            .bind::<Timestamp, _>(range.end())
            .load(conn)
    };
    let opened = count(conn, "created_at", "")?;
    let closed = count(conn, "closed_at", " AND c.status = 'done'")?;
    let find = |rows: &[DayCount], day: NaiveDate| {
        let key = day.format("%Y-%m-%d").to_string();
        rows.iter().find(|r| r.day == key).map_or(0, |r| r.n)
    };
    Ok(range
        .days()
        .into_iter()
        .map(|day| (day, find(&opened, day), find(&closed, day)))
        .collect())
}

/// Median and 90th percentile of a duration, in seconds, over `count` values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Durations {
    pub count: i64,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

#[derive(QueryableByName)]
struct Count {
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct Value {
    #[diesel(sql_type = Nullable<Double>)]
    v: Option<f64>,
}

/// The nearest-rank percentile: the smallest value with at least `p`% of
/// the values at or below it (rank ⌈p·n/100⌉).
pub fn rank(p: i64, n: i64) -> i64 {
    ((p * n + 99) / 100).max(1)
}

/// Percentiles of `values_sql` (a query selecting one column `v`),
/// ordered and picked by the database.
fn durations(conn: &mut DbConn, values_sql: &str, range: &Range) -> QueryResult<Durations> {
    let values_sql = placeholders(conn, values_sql);
    let count: Count = diesel::sql_query(format!("SELECT COUNT(*) AS n FROM ({values_sql}) vals"))
        .bind::<Timestamp, _>(range.start())
        .bind::<Timestamp, _>(range.end())
        .get_result(conn)?;
    if count.n == 0 {
        return Ok(Durations::default());
    }
    let mut pick = |p: i64| -> QueryResult<Option<f64>> {
        let offset = rank(p, count.n) - 1;
        let row: Value = diesel::sql_query(format!(
            "SELECT vals.v AS v FROM ({values_sql}) vals ORDER BY vals.v LIMIT 1 OFFSET {offset}"
        ))
        .bind::<Timestamp, _>(range.start())
        .bind::<Timestamp, _>(range.end())
        .get_result(conn)?;
        Ok(row.v)
    };
    Ok(Durations {
        count: count.n,
        median: pick(50)?,
        p90: pick(90)?,
    })
}

/// Time from a conversation's creation to its first reply, for the
/// conversations opened in the range that got one.
pub fn first_response(conn: &mut DbConn, range: &Range) -> QueryResult<Durations> {
    let d = dialect(conn);
    let first_reply = "(SELECT MIN(m.created_at) FROM messages m \
                       WHERE m.conversation_id = c.id AND m.kind = 'reply')";
    let values = format!(
        "SELECT {secs} AS v FROM conversations c \
         WHERE c.created_at >= ? AND c.created_at < ?{team} AND {first_reply} IS NOT NULL",
        secs = (d.seconds)("c.created_at", first_reply),
        team = range.team_sql(),
    );
    durations(conn, &values, range)
}

/// Time from creation to done, for the conversations closed in the range.
pub fn resolution(conn: &mut DbConn, range: &Range) -> QueryResult<Durations> {
    let d = dialect(conn);
    let values = format!(
        "SELECT {secs} AS v FROM conversations c \
         WHERE c.status = 'done' AND c.closed_at >= ? AND c.closed_at < ?{team}",
        secs = (d.seconds)("c.created_at", "c.closed_at"),
        team = range.team_sql(),
    );
    durations(conn, &values, range)
}

#[derive(QueryableByName)]
struct KeyCount {
    #[diesel(sql_type = Text)]
    key: String,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Conversations by status now (the team filter applies, the dates do not).
pub fn backlog(conn: &mut DbConn, range: &Range) -> QueryResult<Vec<(String, i64)>> {
    let where_team = range
        .team
        .map(|t| format!(" WHERE c.team_id = {t}"))
        .unwrap_or_default();
    let rows: Vec<KeyCount> = diesel::sql_query(format!(
        "SELECT c.status AS key, COUNT(*) AS n FROM conversations c{where_team} GROUP BY c.status"
    ))
    .load(conn)?;
    Ok(crate::models::conversation::STATUSES
        .iter()
        .map(|s| {
            let n = rows.iter().find(|r| r.key == *s).map_or(0, |r| r.n);
            (s.to_string(), n)
        })
        .collect())
}

#[derive(QueryableByName)]
struct IdCount {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

fn counts_by(conn: &mut DbConn, sql: String, range: Option<&Range>) -> QueryResult<Vec<IdCount>> {
    match range {
        Some(range) => diesel::sql_query(placeholders(conn, &sql))
            .bind::<Timestamp, _>(range.start())
            .bind::<Timestamp, _>(range.end())
            .load(conn),
        None => diesel::sql_query(sql).load(conn),
    }
}

fn find(rows: &[IdCount], id: i64) -> i64 {
    rows.iter().find(|r| r.id == id).map_or(0, |r| r.n)
}

/// One row per person or team.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub replies: i64,
    pub notes: i64,
    pub closed: i64,
    pub open_assigned: i64,
}

#[derive(QueryableByName)]
struct Named {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
}

/// Full-time and seasonal users: replies and notes written in the range
/// (in conversations of the team, if one is chosen), conversations of
/// theirs closed in the range, and open conversations assigned to them now.
pub fn per_agent(conn: &mut DbConn, range: &Range) -> QueryResult<Vec<PersonRow>> {
    let team = range.team_sql();
    let written = |kind: &str| {
        format!(
            "SELECT m.author_user_id AS id, COUNT(*) AS n FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.kind = '{kind}' AND m.created_at >= ? AND m.created_at < ?{team} \
             AND m.author_user_id IS NOT NULL GROUP BY m.author_user_id"
        )
    };
    let replies = counts_by(conn, written("reply"), Some(range))?;
    let notes = counts_by(conn, written("note"), Some(range))?;
    let closed = counts_by(
        conn,
        format!(
            "SELECT c.assignee_id AS id, COUNT(*) AS n FROM conversations c \
             WHERE c.status = 'done' AND c.closed_at >= ? AND c.closed_at < ?{team} \
             AND c.assignee_id IS NOT NULL GROUP BY c.assignee_id"
        ),
        Some(range),
    )?;
    let open = counts_by(
        conn,
        format!(
            "SELECT c.assignee_id AS id, COUNT(*) AS n FROM conversations c \
             WHERE c.status <> 'done' AND c.assignee_id IS NOT NULL{team} GROUP BY c.assignee_id"
        ),
        None,
    )?;
    let people: Vec<Named> = diesel::sql_query(
        "SELECT id, name FROM users WHERE user_type <> 'collaborator' ORDER BY name, id",
    )
    .load(conn)?;
    Ok(people
        .into_iter()
        .map(|p| PersonRow {
            replies: find(&replies, p.id),
            notes: find(&notes, p.id),
            closed: find(&closed, p.id),
            open_assigned: find(&open, p.id),
            id: p.id,
            name: p.name,
        })
        // People with nothing in the range or the queue are left out.
        .filter(|r| r.replies + r.notes + r.closed + r.open_assigned > 0)
        .collect())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TeamRow {
    pub id: i64,
    pub name: String,
    pub opened: i64,
    pub closed: i64,
    pub open_now: i64,
}

/// Per team: opened and closed in the range, open now.
pub fn per_team(conn: &mut DbConn, range: &Range) -> QueryResult<Vec<TeamRow>> {
    let team = range.team_sql();
    let opened = counts_by(
        conn,
        format!(
            "SELECT c.team_id AS id, COUNT(*) AS n FROM conversations c \
             WHERE c.created_at >= ? AND c.created_at < ? AND c.team_id IS NOT NULL{team} \
             GROUP BY c.team_id"
        ),
        Some(range),
    )?;
    let closed = counts_by(
        conn,
        format!(
            "SELECT c.team_id AS id, COUNT(*) AS n FROM conversations c \
             WHERE c.status = 'done' AND c.closed_at >= ? AND c.closed_at < ? \
             AND c.team_id IS NOT NULL{team} GROUP BY c.team_id"
        ),
        Some(range),
    )?;
    let open = counts_by(
        conn,
        format!(
            "SELECT c.team_id AS id, COUNT(*) AS n FROM conversations c \
             WHERE c.status <> 'done' AND c.team_id IS NOT NULL{team} GROUP BY c.team_id"
        ),
        None,
    )?;
    let teams: Vec<Named> =
        diesel::sql_query("SELECT id, name FROM teams ORDER BY name, id").load(conn)?;
    Ok(teams
        .into_iter()
        .filter(|t| range.team.is_none_or(|only| only == t.id))
        .map(|t| TeamRow {
            opened: find(&opened, t.id),
            closed: find(&closed, t.id),
            open_now: find(&open, t.id),
            id: t.id,
            name: t.name,
        })
        .collect())
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollaboratorRow {
    pub id: i64,
    pub name: String,
    pub notes: i64,
    pub mentions: i64,
    pub conversations: i64,
}

/// What collaborators added in the range: their notes, the people they
/// @mentioned (notifications they caused), and in how many conversations.
pub fn collaborators(conn: &mut DbConn, range: &Range) -> QueryResult<Vec<CollaboratorRow>> {
    let team = range.team_sql();
    let notes = counts_by(
        conn,
        format!(
            "SELECT m.author_user_id AS id, COUNT(*) AS n FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.kind = 'note' AND m.created_at >= ? AND m.created_at < ?{team} \
             AND m.author_user_id IS NOT NULL GROUP BY m.author_user_id"
        ),
        Some(range),
    )?;
    let conversations = counts_by(
        conn,
        format!(
            "SELECT m.author_user_id AS id, COUNT(DISTINCT m.conversation_id) AS n FROM messages m \
             JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.kind = 'note' AND m.created_at >= ? AND m.created_at < ?{team} \
             AND m.author_user_id IS NOT NULL GROUP BY m.author_user_id"
        ),
        Some(range),
    )?;
    let mentions = counts_by(
        conn,
        format!(
            "SELECT n.actor_id AS id, COUNT(*) AS n FROM notifications n \
             JOIN conversations c ON c.id = n.conversation_id \
             WHERE n.kind = 'mention' AND n.created_at >= ? AND n.created_at < ?{team} \
             AND n.actor_id IS NOT NULL GROUP BY n.actor_id"
        ),
        Some(range),
    )?;
    let people: Vec<Named> = diesel::sql_query(
        "SELECT id, name FROM users WHERE user_type = 'collaborator' ORDER BY name, id",
    )
    .load(conn)?;
    Ok(people
        .into_iter()
        .map(|p| CollaboratorRow {
            notes: find(&notes, p.id),
            mentions: find(&mentions, p.id),
            conversations: find(&conversations, p.id),
            id: p.id,
            name: p.name,
        })
        .collect())
}
