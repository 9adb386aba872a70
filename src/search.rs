//! Full-text search with each database's own engine: SQLite FTS5 and
//! PostgreSQL tsvector/GIN. The reader's scope is part of the SQL, so a
//! hidden conversation never matches.

use std::collections::{HashMap, HashSet};

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Double, Text};

use crate::db::{DbConn, Prepared};
use crate::policy::ConversationScope;

/// FTS5 has its own query syntax; users type words. Each word becomes a
/// quoted term (all must match), so punctuation can never be a syntax error.
pub fn fts5_query(text: &str) -> Option<String> {
    let terms: Vec<String> = text
        .split(|c: char| !c.is_alphanumeric())
        .filter(|w| !w.is_empty())
        .map(|w| format!("\"{w}\""))
        .collect();
    (!terms.is_empty()).then(|| terms.join(" "))
}

/// A limited scope as SQL text over `conversations` under `alias`, as
/// `models::conversation::within_reach!` filters a query (ids are integers
/// from the database, safe to write inline); `1 = 0` for nothing.
pub fn reach_sql(reach: &crate::policy::Reach, alias: &str) -> String {
    let list = |ids: &[i64]| ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",");
    let mut any = Vec::new();
    if !reach.teams.is_empty() {
        any.push(format!("{alias}.team_id IN ({})", list(&reach.teams)));
    }
    if !reach.conversations.is_empty() {
        any.push(format!("{alias}.id IN ({})", list(&reach.conversations)));
    }
    if !reach.customers.is_empty() {
        any.push(format!(
            "{alias}.customer_id IN ({})",
            list(&reach.customers)
        ));
    }
    match any.len() {
        0 => "1 = 0".to_string(),
        _ => format!("({})", any.join(" OR ")),
    }
}

fn scope_sql(scope: &ConversationScope) -> Option<String> {
    match scope {
        ConversationScope::All => Some(String::new()),
        ConversationScope::Limited(reach) => Some(format!(" AND {}", reach_sql(reach, "c"))),
        ConversationScope::None => None,
    }
}

/// How results are ordered.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Order {
    /// The conversation whose newest matching message (or subject) is
    /// newest comes first. Each page costs about the same however many
    /// conversations match.
    #[default]
    Newest,
    /// Best match first (bm25 on SQLite, `ts_rank_cd` on PostgreSQL),
    /// ranked among the newest `RELEVANCE_WINDOW` matches.
    Relevance,
}

impl Order {
    /// `newest` or `relevance`.
    pub fn parse(key: &str) -> Option<Self> {
        match key {
            "newest" => Some(Self::Newest),
            "relevance" => Some(Self::Relevance),
            _ => None,
        }
    }
}

/// Matches are read newest first, a page's worth at first, then in
/// growing batches up to this many.
const MAX_CHUNK: usize = 1_000;
/// One page reads at most this many matches: when filters reject nearly
/// all of them, the page ends early with a cursor to go on from.
const MAX_WALK: usize = 20_000;
/// Relevance ranks the newest this many matches.
pub const RELEVANCE_WINDOW: i64 = 2_000;

/// A page of results and, when more may follow, where the next starts.
pub struct Found<T> {
    pub rows: Vec<T>,
    pub next: Option<i64>,
}

impl<T> Found<T> {
    fn none() -> Self {
        Self {
            rows: Vec::new(),
            next: None,
        }
    }
}

/// The words as each engine takes them; `None` when there is nothing to find.
enum Words {
    Fts5(String),
    /// What the user typed, and PostgreSQL's reading of it as a `tsquery`
    /// (`websearch_to_tsquery`), written out.
    Postgres {
        text: String,
        tsquery: String,
    },
}

#[derive(QueryableByName)]
struct TsQuery {
    #[diesel(sql_type = Text)]
    tsquery: String,
}

impl Words {
    fn of(conn: &mut DbConn, text: &str) -> QueryResult<Option<Self>> {
        Ok(match conn {
            DbConn::Sqlite(_) => fts5_query(text).map(Self::Fts5),
            DbConn::Postgresql(c) => {
                let text = text.trim();
                if text.is_empty() {
                    return Ok(None);
                }
                let parsed: TsQuery = Prepared(
                    diesel::sql_query(
                        "SELECT CAST(websearch_to_tsquery('simple', $1) AS TEXT) AS tsquery",
                    )
                    .bind::<Text, _>(text),
                )
                .get_result(c)?;
                // Punctuation alone has no lexemes: nothing matches.
                (!parsed.tsquery.is_empty()).then(|| Self::Postgres {
                    text: text.to_string(),
                    tsquery: parsed.tsquery,
                })
            }
        })
    }

    fn text(&self) -> String {
        match self {
            Self::Fts5(q) | Self::Postgres { text: q, .. } => q.clone(),
        }
    }
}

#[derive(QueryableByName)]
struct Hit {
    #[diesel(sql_type = BigInt)]
    hit: i64,
    #[diesel(sql_type = BigInt)]
    id: i64,
}

#[derive(QueryableByName)]
struct Scored {
    #[diesel(sql_type = BigInt)]
    id: i64,
    /// Lower is better.
    #[diesel(sql_type = Double)]
    score: f64,
}

/// Where a subject match sits on PostgreSQL: at the conversation's first
/// message, as in SQLite's FTS5 table (when it has none, its own id less
/// 2^62: below every message), so positions never tie across
/// conversations. Indexed (`conversations_search_position`).
const SUBJECT_POSITION: &str = "COALESCE(s.first_message_id, s.id - 4611686018427387904)";

/// The words as a PostgreSQL `tsquery`, from the text bound as `$1`. A
/// sub-select, so that it is computed once per run: PostgreSQL plans with
/// `force_generic_plan` (see `db`), which does not fold it into a constant,
/// and would parse the words again for every row.
pub(crate) const WORDS: &str = "(SELECT websearch_to_tsquery('simple', $1))";

/// Positions go by buckets of this many bits' worth (1,024) in the
/// bucketed GIN indexes (migration 027): `search_bucketed` keys each lexeme
/// by its bucket as well, `'488:printer'`.
const BUCKET_BITS: u32 = 10;
/// A window of up to this many positions (65 buckets at most) is read
/// through the bucketed indexes: each bucket's entries, then their rows.
const BUCKETED_LIMIT: i64 = 65_536;

/// How PostgreSQL finds a window's matches.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Lookup {
    /// Through the bucketed GIN indexes: costs the window's matches, however
    /// many the word has elsewhere. The query, one term per bucket, is
    /// bound as `$4`.
    Bucketed,
    /// Through the plain GIN indexes: costs what all of the word's index
    /// entries cost to read (whatever the window), then the matches. For
    /// wide windows and the last one, which has no lower bound.
    Indexed,
}

impl Lookup {
    fn for_window(lower: Option<i64>, upper: i64) -> Self {
        match lower {
            Some(lower) if upper.saturating_sub(lower) <= BUCKETED_LIMIT => Self::Bucketed,
            _ => Self::Indexed,
        }
    }
}

/// `tsquery` (as PostgreSQL writes one out) for the rows of the buckets
/// holding positions `lower..upper`: for each bucket, the query with every
/// lexeme keyed by the bucket, joined by `|` (a row lies in one bucket, so
/// a negation or a conjunction means what it did). Phrase operators become
/// `&`: the bucketed index keeps no positions, so the row itself is checked.
fn bucketed_query(tsquery: &str, lower: i64, upper: i64) -> String {
    let (first, last) = (lower >> BUCKET_BITS, (upper - 1) >> BUCKET_BITS);
    let mut out = String::new();
    for bucket in (first..=last).rev() {
        if !out.is_empty() {
            out.push_str(" | ");
        }
        out.push('(');
        let mut chars = tsquery.chars().peekable();
        while let Some(c) = chars.next() {
            match c {
                // A lexeme: quoted, a quote inside doubled, a backslash
                // escaping the next character.
                '\'' => {
                    out.push('\'');
                    out.push_str(&bucket.to_string());
                    out.push(':');
                    while let Some(c) = chars.next() {
                        out.push(c);
                        match c {
                            '\\' => out.extend(chars.next()),
                            '\'' if chars.peek() == Some(&'\'') => out.extend(chars.next()),
                            '\'' => break,
                            _ => {}
                        }
                    }
                }
                // `<->` or `<N>`: followed by.
                '<' => {
                    for c in chars.by_ref() {
                        if c == '>' {
                            break;
                        }
                    }
                    out.push('&');
                }
                c => out.push(c),
            }
        }
        out.push(')');
    }
    out
}

/// Every match as (position, conversation) with `lower <= position < upper`:
/// the FTS5 rowid on SQLite; on PostgreSQL the message id, or
/// `SUBJECT_POSITION` for a subject. The words, the bounds (and any
/// further values) are bound: `?` in order on SQLite; `$1` the words, `$2`
/// the lower and `$3` the upper bound, `$4` the bucketed query on
/// PostgreSQL.
fn matches_sql(words: &Words, lookup: Lookup) -> String {
    let Words::Postgres { tsquery, .. } = words else {
        return "SELECT rowid AS hit, conversation_id AS cid FROM conversation_fts \
             WHERE conversation_fts MATCH ? AND rowid >= ? AND rowid < ?"
            .to_string();
    };
    // `+ 0`: the bounds filter what the indexes found, never pick the index.
    let matching = |column: &str, position: &str| match lookup {
        Lookup::Bucketed => format!(
            "search_bucketed({column}, {position}) @@ CAST($4 AS tsquery) \
             AND {position} + 0 >= $2 AND {position} + 0 < $3{}",
            if tsquery.contains('<') {
                format!(" AND ts_match_vq({column}, {WORDS})")
            } else {
                String::new()
            }
        ),
        Lookup::Indexed => {
            format!("{column} @@ {WORDS} AND {position} >= $2 AND {position} < $3")
        }
    };
    format!(
        "SELECT m.id AS hit, m.conversation_id AS cid FROM messages m WHERE {} \
         UNION ALL \
         SELECT {SUBJECT_POSITION}, s.id FROM conversations s WHERE {}",
        matching("m.body_tsv", "m.id"),
        matching("s.subject_tsv", SUBJECT_POSITION),
    )
}

/// PostgreSQL reads matches in windows of positions, newest first (a plain
/// GIN index cannot return them in order, and reading every match costs a
/// common word's thousands). The first window is the newest `FIRST_WINDOW`
/// positions. Each next window is sized from the matches found so far to
/// hold what the page still needs (twice over, at least `FIRST_WINDOW`, at
/// most eight times the last): through the bucketed indexes up to
/// `BUCKETED_LIMIT` positions, beyond through the plain ones, sorting what
/// they find (`+ 0` keeps the planner from walking a wide window row by row
/// for a word it wrongly thinks common). Once a window would reach below
/// the first position, the last one has no lower bound.
const FIRST_WINDOW: i64 = 1_024;

/// The size of the next window: where the matches seen so far say the
/// `needed` ones are, twice over.
fn next_window(walked: i64, found: usize, needed: usize, last: i64) -> i64 {
    let wanted = match found {
        0 => last.saturating_mul(8),
        found => walked.saturating_mul(2 * needed as i64) / found as i64,
    };
    wanted.clamp(FIRST_WINDOW, last.saturating_mul(8))
}

/// The position above the newest message: where a first page starts.
fn above_newest(c: &mut diesel::PgConnection) -> QueryResult<i64> {
    let newest: Option<i64> = crate::db::schema::messages::table
        .select(diesel::dsl::max(crate::db::schema::messages::id))
        .first(c)?;
    Ok(newest.unwrap_or(0).saturating_add(1))
}

/// The bucketed query for a window (bound whatever the lookup: an unused
/// value costs nothing).
fn bucketed_for(words: &Words, lookup: Lookup, lower: Option<i64>, upper: i64) -> String {
    match (words, lookup, lower) {
        (Words::Postgres { tsquery, .. }, Lookup::Bucketed, Some(lower)) => {
            bucketed_query(tsquery, lower, upper)
        }
        _ => String::new(),
    }
}

/// The visible matches below `before`, newest first.
fn hits(
    conn: &mut DbConn,
    words: &Words,
    scope: &str,
    before: i64,
    size: usize,
) -> QueryResult<Vec<(i64, i64)>> {
    let rows: Vec<Hit> = match (conn, words) {
        // FTS5 walks its index by rowid, newest first, and stops at the limit.
        (DbConn::Sqlite(c), Words::Fts5(q)) => Prepared(
            diesel::sql_query(format!(
                "SELECT f.rowid AS hit, c.id AS id FROM conversation_fts f \
                 JOIN conversations c ON c.id = f.conversation_id \
                 WHERE conversation_fts MATCH ? AND f.rowid < ?{scope} \
                 ORDER BY f.rowid DESC LIMIT ?"
            ))
            .bind::<Text, _>(q)
            .bind::<BigInt, _>(before)
            .bind::<BigInt, _>(size as i64),
        )
        .load(c)?,
        (DbConn::Postgresql(c), words) => {
            // Conversations are joined only when the scope needs them.
            let join = if scope.is_empty() {
                ""
            } else {
                " JOIN conversations c ON c.id = h.cid"
            };
            // The first page starts above the newest message; a later one at
            // its cursor, below it already.
            let mut upper = if before == i64::MAX {
                above_newest(c)?
            } else {
                before
            };
            let (mut rows, mut walked, mut span) = (Vec::<Hit>::new(), 0i64, FIRST_WINDOW);
            loop {
                let lower = Some(upper.saturating_sub(span)).filter(|lower| *lower > 0);
                let lookup = Lookup::for_window(lower, upper);
                let found: Vec<Hit> = Prepared(
                    diesel::sql_query(format!(
                        "SELECT h.hit AS hit, h.cid AS id FROM ({}) h{join} WHERE true{scope} \
                         ORDER BY h.hit + 0 DESC LIMIT $5",
                        matches_sql(words, lookup),
                    ))
                    .bind::<Text, _>(words.text())
                    .bind::<BigInt, _>(lower.unwrap_or(i64::MIN))
                    .bind::<BigInt, _>(upper)
                    .bind::<Text, _>(bucketed_for(words, lookup, lower, upper))
                    .bind::<BigInt, _>((size - rows.len()) as i64),
                )
                .load(c)?;
                rows.extend(found);
                walked = walked.saturating_add(span);
                match lower {
                    Some(lower) if rows.len() < size => {
                        upper = lower;
                        span = next_window(walked, rows.len(), size - rows.len(), span);
                    }
                    _ => break,
                }
            }
            rows
        }
        (DbConn::Sqlite(_), Words::Postgres { .. }) => Vec::new(),
    };
    Ok(rows.into_iter().map(|r| (r.hit, r.id)).collect())
}

/// Conversations with a match at `from` or above: shown on earlier pages
/// (or passed over there), never again.
fn matched_from(conn: &mut DbConn, words: &Words, from: i64) -> QueryResult<HashSet<i64>> {
    let select = |lookup| {
        format!(
            "SELECT DISTINCT h.cid AS id, CAST(0 AS BIGINT) AS hit FROM ({}) h",
            matches_sql(words, lookup)
        )
    };
    let rows: Vec<Hit> = match conn {
        DbConn::Sqlite(c) => Prepared(
            diesel::sql_query(select(Lookup::Indexed))
                .bind::<Text, _>(words.text())
                .bind::<BigInt, _>(from)
                .bind::<BigInt, _>(i64::MAX),
        )
        .load(c)?,
        DbConn::Postgresql(c) => {
            let upper = above_newest(c)?;
            let lookup = Lookup::for_window(Some(from), upper);
            Prepared(
                diesel::sql_query(select(lookup))
                    .bind::<Text, _>(words.text())
                    .bind::<BigInt, _>(from)
                    .bind::<BigInt, _>(upper)
                    .bind::<Text, _>(bucketed_for(words, lookup, Some(from), upper)),
            )
            .load(c)?
        }
    };
    Ok(rows.into_iter().map(|r| r.id).collect())
}

/// The visible conversations among the newest `RELEVANCE_WINDOW` matches,
/// best first.
fn ranked(conn: &mut DbConn, words: &Words, scope: &str) -> QueryResult<Vec<i64>> {
    let rows: Vec<Scored> = match (conn, words) {
        (DbConn::Sqlite(c), Words::Fts5(q)) => diesel::sql_query(format!(
            "SELECT c.id AS id, bm25(conversation_fts) AS score FROM conversation_fts f \
             JOIN conversations c ON c.id = f.conversation_id \
             WHERE conversation_fts MATCH ?{scope} \
             ORDER BY f.rowid DESC LIMIT {RELEVANCE_WINDOW}"
        ))
        .bind::<Text, _>(q)
        .load(c)?,
        // The newest matches come from the windows above; only they are ranked.
        (conn @ DbConn::Postgresql(_), words @ Words::Postgres { text: q, .. }) => {
            let positions = hits(conn, words, scope, i64::MAX, RELEVANCE_WINDOW as usize)?;
            if positions.is_empty() {
                return Ok(Vec::new());
            }
            let list = positions
                .iter()
                .map(|(hit, _)| hit.to_string())
                .collect::<Vec<_>>()
                .join(",");
            let DbConn::Postgresql(c) = conn else {
                return Ok(Vec::new());
            };
            // `WORDS`: the query computed once per run (a sub-select), not
            // once per row.
            diesel::sql_query(format!(
                "SELECT m.conversation_id AS id, \
                        -ts_rank_cd(m.body_tsv, {WORDS})::float8 AS score \
                 FROM messages m WHERE m.id IN ({list}) AND m.body_tsv @@ {WORDS} \
                 UNION ALL \
                 SELECT s.id, -ts_rank_cd(s.subject_tsv, {WORDS})::float8 \
                 FROM conversations s WHERE {SUBJECT_POSITION} IN ({list}) \
                   AND s.subject_tsv @@ {WORDS}"
            ))
            .bind::<Text, _>(q)
            .load(c)?
        }
        _ => Vec::new(),
    };
    let mut best: HashMap<i64, f64> = HashMap::new();
    for row in rows {
        let score = best.entry(row.id).or_insert(row.score);
        *score = score.min(row.score);
    }
    let mut ids: Vec<(i64, f64)> = best.into_iter().collect();
    ids.sort_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)));
    Ok(ids.into_iter().map(|(id, _)| id).collect())
}

/// A page of the visible conversations whose subject or any message (notes
/// included) matches `text`. `rows_for` turns candidate ids into rows,
/// leaving out those the caller's filters reject; `after` is a previous
/// page's `next`. Visibility is part of the SQL, so hidden conversations
/// are never read.
#[allow(clippy::too_many_arguments)]
pub fn conversations<T>(
    conn: &mut DbConn,
    text: &str,
    scope: &ConversationScope,
    order: Order,
    after: Option<i64>,
    limit: usize,
    mut rows_for: impl FnMut(&mut DbConn, &[i64]) -> QueryResult<Vec<T>>,
    id_of: impl Fn(&T) -> i64,
) -> QueryResult<Found<T>> {
    let Some(scope) = scope_sql(scope) else {
        return Ok(Found::none());
    };
    let Some(words) = Words::of(conn, text)? else {
        return Ok(Found::none());
    };
    let mut page = Page {
        rows: Vec::new(),
        limit,
        last_shown: None,
        pending: Vec::new(),
    };
    let rows_for = &mut rows_for;
    if order == Order::Relevance {
        // Positions in the ranking stand in for match positions.
        let ranked = ranked(conn, &words, &scope)?;
        let start = (after.unwrap_or(0).max(0) as usize).min(ranked.len());
        for (position, id) in ranked.into_iter().enumerate().skip(start) {
            if page.add(conn, position as i64, id, rows_for, &id_of)? {
                let next = page.last_shown.map(|p| p + 1);
                return Ok(page.found(next));
            }
        }
        let full = page.settle(conn, rows_for, &id_of)?;
        let next = page.last_shown.map(|p| p + 1).filter(|_| full);
        return Ok(page.found(next));
    }
    let mut seen = match after {
        Some(from) => matched_from(conn, &words, from)?,
        None => HashSet::new(),
    };
    let (mut before, mut walked, mut size) = (after.unwrap_or(i64::MAX), 0, limit + 1);
    loop {
        let hits = hits(conn, &words, &scope, before, size)?;
        for &(hit, id) in &hits {
            walked += 1;
            before = hit;
            if seen.insert(id) && page.add(conn, hit, id, rows_for, &id_of)? {
                let next = page.last_shown;
                return Ok(page.found(next));
            }
        }
        if page.settle(conn, rows_for, &id_of)? {
            let next = page.last_shown;
            return Ok(page.found(next));
        }
        if hits.len() < size {
            return Ok(page.found(None));
        }
        if walked >= MAX_WALK {
            return Ok(page.found(Some(before)));
        }
        size = (size * 4).min(MAX_CHUNK);
    }
}

/// A page being filled: candidates wait in `pending` until there are as
/// many as the page still needs, then one `rows_for` call settles them.
struct Page<T> {
    rows: Vec<T>,
    limit: usize,
    /// Position of the last row taken.
    last_shown: Option<i64>,
    /// (position, conversation id) not yet looked up.
    pending: Vec<(i64, i64)>,
}

impl<T> Page<T> {
    /// Queues a candidate; `true` once a row beyond the page was found
    /// (so another page follows).
    fn add(
        &mut self,
        conn: &mut DbConn,
        position: i64,
        id: i64,
        rows_for: &mut impl FnMut(&mut DbConn, &[i64]) -> QueryResult<Vec<T>>,
        id_of: &impl Fn(&T) -> i64,
    ) -> QueryResult<bool> {
        self.pending.push((position, id));
        if self.pending.len() > self.limit - self.rows.len() {
            return self.settle(conn, rows_for, id_of);
        }
        Ok(false)
    }

    fn settle(
        &mut self,
        conn: &mut DbConn,
        rows_for: &mut impl FnMut(&mut DbConn, &[i64]) -> QueryResult<Vec<T>>,
        id_of: &impl Fn(&T) -> i64,
    ) -> QueryResult<bool> {
        if self.pending.is_empty() {
            return Ok(false);
        }
        let ids: Vec<i64> = self.pending.iter().map(|p| p.1).collect();
        let mut found: HashMap<i64, T> = rows_for(conn, &ids)?
            .into_iter()
            .map(|r| (id_of(&r), r))
            .collect();
        for (position, id) in std::mem::take(&mut self.pending) {
            if let Some(row) = found.remove(&id) {
                if self.rows.len() == self.limit {
                    return Ok(true);
                }
                self.rows.push(row);
                self.last_shown = Some(position);
            }
        }
        Ok(false)
    }

    fn found(self, next: Option<i64>) -> Found<T> {
        Found {
            rows: self.rows,
            next,
        }
    }
}

/// A saved search: personal, or shared with a team.
#[derive(Queryable, Clone, Debug)]
pub struct SavedSearch {
    pub id: i64,
    pub user_id: i64,
    pub team_id: Option<i64>,
    pub name: String,
    pub query: String,
    pub created_at: chrono::NaiveDateTime,
}

/// The reader's own searches and those shared with their teams.
pub fn saved_for(
    conn: &mut DbConn,
    user_id: i64,
    team_ids: &[i64],
) -> QueryResult<Vec<SavedSearch>> {
    use crate::db::schema::saved_searches as s;
    s::table
        .filter(
            s::user_id
                .eq(user_id)
                .or(s::team_id.eq_any(team_ids.to_vec())),
        )
        .order((s::name, s::id))
        .load(conn)
}

pub fn save(
    conn: &mut DbConn,
    user_id: i64,
    team_id: Option<i64>,
    name: &str,
    query: &str,
    now: chrono::NaiveDateTime,
) -> QueryResult<()> {
    use crate::db::schema::saved_searches as s;
    diesel::insert_into(s::table)
        .values((
            s::user_id.eq(user_id),
            s::team_id.eq(team_id),
            s::name.eq(name),
            s::query.eq(query),
            s::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Only its author deletes a saved search.
pub fn delete(conn: &mut DbConn, id: i64, user_id: i64) -> QueryResult<usize> {
    use crate::db::schema::saved_searches as s;
    diesel::delete(s::table.filter(s::id.eq(id)).filter(s::user_id.eq(user_id))).execute(conn)
}
