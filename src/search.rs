//! Full-text search with each database's own engine: SQLite FTS5 and
//! PostgreSQL tsvector/GIN. The reader's scope is part of the SQL, so a
//! hidden conversation never matches.

use diesel::prelude::*;
use diesel::sql_types::{BigInt, Text};

use crate::db::DbConn;
use crate::policy::ConversationScope;

#[derive(QueryableByName)]
struct Id {
    #[diesel(sql_type = BigInt)]
    id: i64,
}

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

fn scope_sql(scope: &ConversationScope) -> Option<String> {
    match scope {
        ConversationScope::All => Some(String::new()),
        ConversationScope::Teams(ids) if ids.is_empty() => Some(" AND 1 = 0".into()),
        // Ids are integers from the database: safe to write inline.
        ConversationScope::Teams(ids) => Some(format!(
            " AND c.team_id IN ({})",
            ids.iter().map(i64::to_string).collect::<Vec<_>>().join(",")
        )),
        ConversationScope::None => None,
    }
}

/// Ids of visible conversations whose subject or any message (notes
/// included) matches, most recently active first.
pub fn conversation_ids(
    conn: &mut DbConn,
    text: &str,
    scope: &ConversationScope,
    limit: i64,
) -> QueryResult<Vec<i64>> {
    let Some(scope) = scope_sql(scope) else {
        return Ok(Vec::new());
    };
    let rows: Vec<Id> = match conn {
        DbConn::Sqlite(c) => {
            let Some(query) = fts5_query(text) else {
                return Ok(Vec::new());
            };
            diesel::sql_query(format!(
                "SELECT c.id AS id FROM conversations c \
                 WHERE c.id IN (SELECT conversation_id FROM conversation_fts WHERE conversation_fts MATCH ?){scope} \
                 ORDER BY c.last_activity_at DESC, c.id DESC LIMIT {limit}"
            ))
            .bind::<Text, _>(query)
            .load(c)?
        }
        DbConn::Postgresql(c) => {
            if text.trim().is_empty() {
                return Ok(Vec::new());
            }
            diesel::sql_query(format!(
                "SELECT c.id AS id FROM conversations c \
                 WHERE (c.subject_tsv @@ websearch_to_tsquery('simple', $1) \
                     OR EXISTS (SELECT 1 FROM messages m WHERE m.conversation_id = c.id \
                                AND m.body_tsv @@ websearch_to_tsquery('simple', $1))){scope} \
                 ORDER BY c.last_activity_at DESC, c.id DESC LIMIT {limit}"
            ))
            .bind::<Text, _>(text.to_string())
            .load(c)?
        }
    };
    Ok(rows.into_iter().map(|r| r.id).collect())
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
