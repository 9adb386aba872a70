//! Reporting figures, each computed by aggregate SQL in the database (no
//! rows are loaded into memory to be counted): conversations opened and
//! closed per day, first-response and resolution times (median and p90 by
//! nearest rank, sorted by the database), the backlog by status, and tables
//! per agent, per team and per collaborator. Days are UTC days; times are
//! calendar time (business hours are not taken out).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Nullable, Text};

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

    /// `column >= 'start' AND column < 'end'`: the bounds are timestamps
    /// formatted here (no user text), so they are written inline and every
    /// query needs no binds on either database.
    fn within(&self, column: &str) -> String {
        format!(
            "{} AND {column} < {}",
            self.since(column),
            literal(self.end())
        )
    }

    /// `column >= 'start'`.
    fn since(&self, column: &str) -> String {
        format!("{column} >= {}", literal(self.start()))
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

fn literal(at: NaiveDateTime) -> String {
    at.format("'%Y-%m-%d %H:%M:%S'").to_string()
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
    let mut count = |column: &str, extra: &str| -> QueryResult<Vec<DayCount>> {
        diesel::sql_query(format!(
            "SELECT {day} AS day, COUNT(*) AS n FROM conversations c \
             WHERE {within}{extra}{team} GROUP BY {day}",
            day = (d.day)(&format!("c.{column}")),
            within = range.within(&format!("c.{column}")),
        ))
        .load(conn)
    };
    let opened = count("created_at", "")?;
    let closed = count("closed_at", " AND c.status = 'done'")?;
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
struct Percentiles {
    #[diesel(sql_type = BigInt)]
    n: i64,
    #[diesel(sql_type = Nullable<Double>)]
    median: Option<f64>,
    #[diesel(sql_type = Nullable<Double>)]
    p90: Option<f64>,
}

/// The nearest-rank percentile: the smallest value with at least `p`% of
/// the values at or below it (rank ⌈p·n/100⌉).
pub fn rank(p: i64, n: i64) -> i64 {
    ((p * n + 99) / 100).max(1)
}

/// Count, median and p90 of `values_sql` (a query selecting one column `v`,
/// NULLs ignored), ranked by the database in one pass (window functions).
fn durations(conn: &mut DbConn, values_sql: &str) -> QueryResult<Durations> {
    let rows: Vec<Percentiles> = diesel::sql_query(format!(
        "SELECT n, \
         MAX(CASE WHEN rn = (n * 50 + 99) / 100 THEN v END) AS median, \
         MAX(CASE WHEN rn = (n * 90 + 99) / 100 THEN v END) AS p90 \
         FROM (SELECT v, ROW_NUMBER() OVER (ORDER BY v) AS rn, COUNT(*) OVER () AS n \
               FROM ({values_sql}) vals WHERE v IS NOT NULL) ranked \
         GROUP BY n"
    ))
    .load(conn)?;
    Ok(rows
        .into_iter()
        .next()
        .map(|r| Durations {
            count: r.n,
            median: r.median,
            p90: r.p90,
        })
        .unwrap_or_default())
}

/// Time from a conversation's creation to its first reply, for the
/// conversations opened in the range that got one.
pub fn first_response(conn: &mut DbConn, range: &Range) -> QueryResult<Durations> {
    let d = dialect(conn);
    let within = range.within("c.created_at");
    let team = range.team_sql();
    // The faster plan differs: SQLite probes an index per conversation;
    // PostgreSQL groups the replies written since the range began (a first
    // reply never comes before its conversation).
    let values = match conn {
        DbConn::Sqlite(_) => {
            let first_reply = "(SELECT MIN(m.created_at) FROM messages m \
                               WHERE m.conversation_id = c.id AND m.kind = 'reply')";
            format!(
                "SELECT {secs} AS v FROM conversations c WHERE {within}{team}",
                secs = (d.seconds)("c.created_at", first_reply),
            )
        }
        DbConn::Postgresql(_) => format!(
            "SELECT {secs} AS v FROM conversations c \
             JOIN (SELECT m.conversation_id, MIN(m.created_at) AS first_reply FROM messages m \
                   WHERE m.kind = 'reply' AND {since} GROUP BY m.conversation_id) f \
             ON f.conversation_id = c.id WHERE {within}{team}",
            secs = (d.seconds)("c.created_at", "f.first_reply"),
            since = range.since("m.created_at"),
        ),
    };
    durations(conn, &values)
}

/// Time from creation to done, for the conversations closed in the range.
pub fn resolution(conn: &mut DbConn, range: &Range) -> QueryResult<Durations> {
    let d = dialect(conn);
    let values = format!(
        "SELECT {secs} AS v FROM conversations c WHERE c.status = 'done' AND {within}{team}",
        secs = (d.seconds)("c.created_at", "c.closed_at"),
        within = range.within("c.closed_at"),
        team = range.team_sql(),
    );
    durations(conn, &values)
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
    Ok(crate::models::conversation::Status::ALL
        .iter()
        .map(|s| {
            let n = rows.iter().find(|r| r.key == s.key()).map_or(0, |r| r.n);
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

fn counts_by(conn: &mut DbConn, sql: String) -> QueryResult<Vec<IdCount>> {
    diesel::sql_query(sql).load(conn)
}

fn find(rows: &[IdCount], id: i64) -> i64 {
    rows.iter().find(|r| r.id == id).map_or(0, |r| r.n)
}

#[derive(QueryableByName)]
struct Written {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    replies: i64,
    #[diesel(sql_type = BigInt)]
    notes: i64,
}

/// `JOIN conversations` and the team condition when a team is chosen.
fn message_team(range: &Range) -> (&'static str, String) {
    match range.team {
        Some(_) => (
            " JOIN conversations c ON c.id = m.conversation_id",
            range.team_sql(),
        ),
        None => ("", String::new()),
    }
}

/// Replies and notes each person wrote in the range, in one pass over the
/// range's messages.
fn written(conn: &mut DbConn, range: &Range) -> QueryResult<Vec<Written>> {
    let (join, team) = message_team(range);
    diesel::sql_query(format!(
        "SELECT m.author_user_id AS id, \
         SUM(CASE WHEN m.kind = 'reply' THEN 1 ELSE 0 END) AS replies, \
         SUM(CASE WHEN m.kind = 'note' THEN 1 ELSE 0 END) AS notes \
         FROM messages m{join} \
         WHERE {within} AND m.kind IN ('reply', 'note') AND m.author_user_id IS NOT NULL{team} \
         GROUP BY m.author_user_id",
        within = range.within("m.created_at"),
    ))
    .load(conn)
}

/// In how many conversations each collaborator wrote notes in the range.
fn noted_by_collaborators(conn: &mut DbConn, range: &Range) -> QueryResult<Vec<IdCount>> {
    let (join, team) = message_team(range);
    counts_by(
        conn,
        format!(
            "SELECT m.author_user_id AS id, COUNT(DISTINCT m.conversation_id) AS n \
             FROM messages m JOIN users u ON u.id = m.author_user_id{join} \
             WHERE u.user_type = 'collaborator' AND m.kind = 'note' AND {within}{team} \
             GROUP BY m.author_user_id",
            within = range.within("m.created_at"),
        ),
    )
}

/// A full-time or seasonal user's row.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PersonRow {
    pub id: i64,
    pub name: String,
    pub replies: i64,
    pub notes: i64,
    pub closed: i64,
    pub open_assigned: i64,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct CollaboratorRow {
    pub id: i64,
    pub name: String,
    pub notes: i64,
    pub mentions: i64,
    pub conversations: i64,
}

/// The people tables.
pub struct People {
    /// Replies and notes written in the range (in the team's conversations
    /// when one is chosen), conversations of theirs closed in the range,
    /// open conversations assigned to them now; only people with something.
    pub agents: Vec<PersonRow>,
    /// What collaborators added: notes, the people they @mentioned
    /// (notifications they caused), and in how many conversations.
    pub collaborators: Vec<CollaboratorRow>,
}

#[derive(QueryableByName)]
struct Person {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
    #[diesel(sql_type = Text)]
    user_type: crate::policy::UserType,
}

pub fn people(conn: &mut DbConn, range: &Range) -> QueryResult<People> {
    let team = range.team_sql();
    let written = written(conn, range)?;
    let noted = noted_by_collaborators(conn, range)?;
    let closed = counts_by(
        conn,
        format!(
            "SELECT c.assignee_id AS id, COUNT(*) AS n FROM conversations c \
             WHERE c.status = 'done' AND {within}{team} \
             AND c.assignee_id IS NOT NULL GROUP BY c.assignee_id",
            within = range.within("c.closed_at"),
        ),
    )?;
    let open = counts_by(
        conn,
        format!(
            "SELECT c.assignee_id AS id, COUNT(*) AS n FROM conversations c \
             WHERE c.status <> 'done' AND c.assignee_id IS NOT NULL{team} GROUP BY c.assignee_id"
        ),
    )?;
    let mentions = counts_by(
        conn,
        format!(
            "SELECT n.actor_id AS id, COUNT(*) AS n FROM notifications n \
             JOIN conversations c ON c.id = n.conversation_id \
             WHERE n.kind = 'mention' AND {within}{team} \
             AND n.actor_id IS NOT NULL GROUP BY n.actor_id",
            within = range.within("n.created_at"),
        ),
    )?;
    let everyone: Vec<Person> =
        diesel::sql_query("SELECT id, name, user_type FROM users ORDER BY name, id").load(conn)?;
    let wrote = |id: i64| written.iter().find(|w| w.id == id);
    let mut agents = Vec::new();
    let mut collaborators = Vec::new();
    for p in everyone {
        let w = wrote(p.id);
        if p.user_type == crate::policy::UserType::Collaborator {
            collaborators.push(CollaboratorRow {
                notes: w.map_or(0, |w| w.notes),
                mentions: find(&mentions, p.id),
                conversations: find(&noted, p.id),
                id: p.id,
                name: p.name,
            });
        } else {
            let row = PersonRow {
                replies: w.map_or(0, |w| w.replies),
                notes: w.map_or(0, |w| w.notes),
                closed: find(&closed, p.id),
                open_assigned: find(&open, p.id),
                id: p.id,
                name: p.name,
            };
            if row.replies + row.notes + row.closed + row.open_assigned > 0 {
                agents.push(row);
            }
        }
    }
    Ok(People {
        agents,
        collaborators,
    })
}

#[derive(QueryableByName)]
struct Named {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = Text)]
    name: String,
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
             WHERE {within} AND c.team_id IS NOT NULL{team} GROUP BY c.team_id",
            within = range.within("c.created_at"),
        ),
    )?;
    let closed = counts_by(
        conn,
        format!(
            "SELECT c.team_id AS id, COUNT(*) AS n FROM conversations c \
             WHERE c.status = 'done' AND {within} AND c.team_id IS NOT NULL{team} \
             GROUP BY c.team_id",
            within = range.within("c.closed_at"),
        ),
    )?;
    let open = counts_by(
        conn,
        format!(
            "SELECT c.team_id AS id, COUNT(*) AS n FROM conversations c \
             WHERE c.status <> 'done' AND c.team_id IS NOT NULL{team} GROUP BY c.team_id"
        ),
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
