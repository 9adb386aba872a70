//! Reporting figures, read from rollups that triggers keep per UTC day in
//! the same transaction as every write (migration `report_rollups`):
//! conversations opened and closed per day, team and assignee; replies and
//! notes per day, team and author; first-response and resolution times
//! counted per day, team and bucket of seconds, and per exact value. A
//! report therefore reads a few rows per day of its range, never its
//! conversations and messages. Percentiles (median and p90 by nearest rank)
//! are exact: the buckets' counts find the bucket holding the rank, and
//! that bucket's counts per distinct value find the value. What is "now"
//! (the backlog, open conversations) comes from `conversation_counts`. Days
//! are UTC days; times are calendar time (business hours are not taken out).

use chrono::{NaiveDate, NaiveDateTime};
use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};

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
            "{column} >= {} AND {column} < {}",
            literal(self.start()),
            literal(self.end())
        )
    }

    /// A rollup's days in the range, and its team when one is chosen.
    fn rollup_days(&self, conn: &DbConn) -> String {
        let day = |d: NaiveDate| match conn {
            DbConn::Sqlite(_) => d.format("'%Y-%m-%d'").to_string(),
            DbConn::Postgresql(_) => d.format("DATE '%Y-%m-%d'").to_string(),
        };
        format!(
            "day >= {} AND day <= {}{}",
            day(self.from),
            day(self.to),
            self.team_filter("team_key")
        )
    }

    /// `AND column = N` (an integer, safe inline), or nothing.
    fn team_filter(&self, column: &str) -> String {
        self.team
            .map(|t| format!(" AND {column} = {t}"))
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

/// A rollup's day column as `YYYY-MM-DD` (a date on PostgreSQL).
fn day_text(conn: &DbConn) -> &'static str {
    match conn {
        DbConn::Sqlite(_) => "day",
        DbConn::Postgresql(_) => "to_char(day, 'YYYY-MM-DD')",
    }
}

#[derive(QueryableByName)]
struct DayCounts {
    #[diesel(sql_type = Text)]
    day: String,
    #[diesel(sql_type = BigInt)]
    opened: i64,
    #[diesel(sql_type = BigInt)]
    closed: i64,
}

/// (day, opened, closed) for every day of the range, zeros included.
pub fn per_day(conn: &mut DbConn, range: &Range) -> QueryResult<Vec<(NaiveDate, i64, i64)>> {
    let rows: Vec<DayCounts> = diesel::sql_query(format!(
        "SELECT {day} AS day, CAST(SUM(opened) AS BIGINT) AS opened, \
         CAST(SUM(closed) AS BIGINT) AS closed FROM report_days WHERE {days} GROUP BY day",
        day = day_text(conn),
        days = range.rollup_days(conn),
    ))
    .load(conn)?;
    let by_day: std::collections::HashMap<String, (i64, i64)> = rows
        .into_iter()
        .map(|r| (r.day, (r.opened, r.closed)))
        .collect();
    Ok(range
        .days()
        .into_iter()
        .map(|day| {
            let (opened, closed) = by_day
                .get(&day.format("%Y-%m-%d").to_string())
                .copied()
                .unwrap_or_default();
            (day, opened, closed)
        })
        .collect())
}

/// Median and 90th percentile of a duration, in seconds, over `count` values.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Durations {
    pub count: i64,
    pub median: Option<f64>,
    pub p90: Option<f64>,
}

/// The nearest-rank percentile: the smallest value with at least `p`% of
/// the values at or below it (rank ⌈p·n/100⌉).
pub fn rank(p: i64, n: i64) -> i64 {
    ((p * n + 99) / 100).max(1)
}

#[derive(QueryableByName)]
struct BucketCount {
    #[diesel(sql_type = BigInt)]
    bucket: i64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

#[derive(QueryableByName)]
struct ValueCount {
    #[diesel(sql_type = Double)]
    seconds: f64,
    #[diesel(sql_type = BigInt)]
    n: i64,
}

/// Count, median and p90 of a measure (`first_response`, `resolution`)
/// over the range: the buckets' counts (ascending seconds) locate each
/// rank's bucket and its place in it; that bucket's values in the range,
/// counted per value, give the value.
fn durations(conn: &mut DbConn, measure: &str, range: &Range) -> QueryResult<Durations> {
    let days = range.rollup_days(conn);
    let buckets: Vec<BucketCount> = diesel::sql_query(format!(
        "SELECT bucket, CAST(SUM(n) AS BIGINT) AS n FROM report_durations \
         WHERE measure = '{measure}' AND {days} GROUP BY bucket HAVING SUM(n) <> 0 ORDER BY bucket"
    ))
    .load(conn)?;
    let count: i64 = buckets.iter().map(|b| b.n).sum();
    if count == 0 {
        return Ok(Durations::default());
    }
    let mut value_at = |rank: i64| -> QueryResult<Option<f64>> {
        let mut through = 0;
        let Some(bucket) = buckets.iter().find(|b| {
            through += b.n;
            through >= rank
        }) else {
            return Ok(None);
        };
        let values: Vec<ValueCount> = diesel::sql_query(format!(
            "SELECT seconds, CAST(SUM(n) AS BIGINT) AS n FROM report_duration_values \
             WHERE measure = '{measure}' AND bucket = {b} AND {days} \
             GROUP BY seconds HAVING SUM(n) <> 0 ORDER BY seconds",
            b = bucket.bucket,
        ))
        .load(conn)?;
        let mut seen = through - bucket.n;
        Ok(values
            .iter()
            .find(|v| {
                seen += v.n;
                seen >= rank
            })
            .map(|v| v.seconds))
    };
    Ok(Durations {
        count,
        median: value_at(rank(50, count))?,
        p90: value_at(rank(90, count))?,
    })
}

/// Time from a conversation's creation to its first reply, for the
/// conversations opened in the range that got one.
pub fn first_response(conn: &mut DbConn, range: &Range) -> QueryResult<Durations> {
    durations(conn, "first_response", range)
}

/// Time from creation to done, for the conversations closed in the range.
pub fn resolution(conn: &mut DbConn, range: &Range) -> QueryResult<Durations> {
    durations(conn, "resolution", range)
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
    let rows: Vec<KeyCount> = diesel::sql_query(format!(
        "SELECT status AS key, CAST(SUM(n) AS BIGINT) AS n FROM conversation_counts \
         WHERE n <> 0{team} GROUP BY status",
        team = range.team_filter("team_key"),
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

/// Open conversations now per `key` (`team_key` or `assignee_key`), leaving
/// out key 0 (no team, unassigned) and Trash and Spam (counted under their
/// folder's name).
fn open_now(conn: &mut DbConn, range: &Range, key: &str) -> QueryResult<Vec<IdCount>> {
    counts_by(
        conn,
        format!(
            "SELECT {key} AS id, CAST(SUM(n) AS BIGINT) AS n FROM conversation_counts \
             WHERE status IN ('open', 'pending', 'snoozed') AND {key} <> 0{team} GROUP BY {key}",
            team = range.team_filter("team_key"),
        ),
    )
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

/// Replies and notes each person wrote in the range.
fn written(conn: &mut DbConn, range: &Range) -> QueryResult<Vec<Written>> {
    diesel::sql_query(format!(
        "SELECT author_id AS id, CAST(SUM(replies) AS BIGINT) AS replies, \
         CAST(SUM(notes) AS BIGINT) AS notes FROM report_messages WHERE {days} GROUP BY author_id",
        days = range.rollup_days(conn),
    ))
    .load(conn)
}

/// `JOIN conversations` and the team condition when a team is chosen.
fn message_team(range: &Range) -> (&'static str, String) {
    match range.team {
        Some(_) => (
            " JOIN conversations c ON c.id = m.conversation_id",
            range.team_filter("c.team_id"),
        ),
        None => ("", String::new()),
    }
}

/// In how many conversations each collaborator wrote notes in the range
/// (distinct conversations do not add up by day: read from the notes
/// themselves, through the index by author).
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
    let written = written(conn, range)?;
    let noted = noted_by_collaborators(conn, range)?;
    let closed = counts_by(
        conn,
        format!(
            "SELECT assignee_key AS id, CAST(SUM(closed) AS BIGINT) AS n FROM report_days \
             WHERE {days} AND assignee_key <> 0 GROUP BY assignee_key",
            days = range.rollup_days(conn),
        ),
    )?;
    let open = open_now(conn, range, "assignee_key")?;
    let mentions = counts_by(
        conn,
        format!(
            "SELECT n.actor_id AS id, COUNT(*) AS n FROM notifications n \
             JOIN conversations c ON c.id = n.conversation_id \
             WHERE n.kind = 'mention' AND {within}{team} \
             AND n.actor_id IS NOT NULL GROUP BY n.actor_id",
            within = range.within("n.created_at"),
            team = range.team_filter("c.team_id"),
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

#[derive(QueryableByName)]
struct TeamCounts {
    #[diesel(sql_type = BigInt)]
    id: i64,
    #[diesel(sql_type = BigInt)]
    opened: i64,
    #[diesel(sql_type = BigInt)]
    closed: i64,
}

/// Per team: opened and closed in the range, open now.
pub fn per_team(conn: &mut DbConn, range: &Range) -> QueryResult<Vec<TeamRow>> {
    let counted: Vec<TeamCounts> = diesel::sql_query(format!(
        "SELECT team_key AS id, CAST(SUM(opened) AS BIGINT) AS opened, \
         CAST(SUM(closed) AS BIGINT) AS closed FROM report_days \
         WHERE {days} AND team_key <> 0 GROUP BY team_key",
        days = range.rollup_days(conn),
    ))
    .load(conn)?;
    let open = open_now(conn, range, "team_key")?;
    let teams: Vec<Named> =
        diesel::sql_query("SELECT id, name FROM teams ORDER BY name, id").load(conn)?;
    Ok(teams
        .into_iter()
        .filter(|t| range.team.is_none_or(|only| only == t.id))
        .map(|t| {
            let counts = counted.iter().find(|c| c.id == t.id);
            TeamRow {
                opened: counts.map_or(0, |c| c.opened),
                closed: counts.map_or(0, |c| c.closed),
                open_now: find(&open, t.id),
                id: t.id,
                name: t.name,
            }
        })
        .collect())
}

/// Questions (requests) for one person or team: asked by and of them,
/// how they ended, and the time to answer (median and p90 by nearest rank).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct RequestRow {
    pub id: i64,
    pub name: String,
    pub collaborator: bool,
    /// Questions they asked (people only).
    pub asked_by: i64,
    /// Questions asked of them (in the team's conversations).
    pub asked: i64,
    pub answered: i64,
    pub declined: i64,
    /// Still waiting for an answer.
    pub open: i64,
    pub time_to_answer: Durations,
}

/// The questions tables: per person and per team, and everyone's total.
pub struct Requests {
    pub people: Vec<RequestRow>,
    pub teams: Vec<RequestRow>,
    pub total: RequestRow,
    /// Those asked of collaborators, together.
    pub collaborators: RequestRow,
}

impl RequestRow {
    fn count(&mut self, asked: &crate::models::request::Asked, seconds: &mut Vec<f64>) {
        use crate::models::request::State;
        self.asked += 1;
        match asked.state {
            State::Answered => self.answered += 1,
            State::Declined => self.declined += 1,
            State::Open => self.open += 1,
            State::Withdrawn => {}
        }
        seconds.extend(asked.seconds);
    }
}

/// Median and p90 of some seconds, by nearest rank.
fn spread(mut seconds: Vec<f64>) -> Durations {
    seconds.sort_by(f64::total_cmp);
    let n = seconds.len() as i64;
    let at = |p: i64| seconds.get((rank(p, n) - 1) as usize).copied();
    Durations {
        count: n,
        median: at(50),
        p90: at(90),
    }
}

/// Questions asked in the range (in the team's conversations when one is
/// chosen): per person asked or asking, per team, and in all; read from
/// the requests themselves (a few per conversation at most).
pub fn requests(conn: &mut DbConn, range: &Range) -> QueryResult<Requests> {
    use std::collections::BTreeMap;
    let asked =
        crate::models::request::asked_between(conn, range.start(), range.end(), range.team)?;
    let mut by_person: BTreeMap<i64, (RequestRow, Vec<f64>)> = BTreeMap::new();
    let mut by_team: BTreeMap<i64, (RequestRow, Vec<f64>)> = BTreeMap::new();
    let (mut total, mut all_seconds) = (RequestRow::default(), Vec::new());
    for a in &asked {
        let (row, seconds) = by_person.entry(a.asked_of).or_default();
        row.count(a, seconds);
        if let Some(asker) = a.asked_by {
            by_person.entry(asker).or_default().0.asked_by += 1;
        }
        if let Some(team) = a.team_id {
            let (row, seconds) = by_team.entry(team).or_default();
            row.count(a, seconds);
        }
        total.count(a, &mut all_seconds);
        total.asked_by += 1;
    }
    total.time_to_answer = spread(all_seconds);
    let everyone: Vec<Person> =
        diesel::sql_query("SELECT id, name, user_type FROM users ORDER BY name, id").load(conn)?;
    let collaborator_ids: std::collections::HashSet<i64> = everyone
        .iter()
        .filter(|p| p.user_type == crate::policy::UserType::Collaborator)
        .map(|p| p.id)
        .collect();
    let (mut collaborators, mut collaborator_seconds) = (RequestRow::default(), Vec::new());
    for a in asked
        .iter()
        .filter(|a| collaborator_ids.contains(&a.asked_of))
    {
        collaborators.count(a, &mut collaborator_seconds);
    }
    collaborators.time_to_answer = spread(collaborator_seconds);
    let people = everyone
        .into_iter()
        .filter_map(|p| {
            let (mut row, seconds) = by_person.remove(&p.id)?;
            row.id = p.id;
            row.name = p.name;
            row.collaborator = p.user_type == crate::policy::UserType::Collaborator;
            row.time_to_answer = spread(seconds);
            Some(row)
        })
        .collect();
    let teams: Vec<Named> =
        diesel::sql_query("SELECT id, name FROM teams ORDER BY name, id").load(conn)?;
    let teams = teams
        .into_iter()
        .filter_map(|t| {
            let (mut row, seconds) = by_team.remove(&t.id)?;
            row.id = t.id;
            row.name = t.name;
            row.time_to_answer = spread(seconds);
            Some(row)
        })
        .collect();
    Ok(Requests {
        people,
        teams,
        total,
        collaborators,
    })
}
