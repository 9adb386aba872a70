//! In-app notifications (mentions and assignments). Lists are filtered by
//! the reader's conversation scope in SQL: a notification about a
//! conversation the reader can no longer see does not show.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{conversations, notifications, users};
use crate::policy::ConversationScope;

pub fn create(
    conn: &mut DbConn,
    user_id: i64,
    kind: &str,
    conversation_id: i64,
    actor_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(notifications::table)
        .values((
            notifications::user_id.eq(user_id),
            notifications::kind.eq(kind),
            notifications::conversation_id.eq(conversation_id),
            notifications::actor_id.eq(actor_id),
            notifications::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

#[derive(Queryable, Clone, Debug)]
pub struct Line {
    pub id: i64,
    pub kind: String,
    pub conversation_id: i64,
    pub subject: String,
    pub actor_name: Option<String>,
    pub created_at: NaiveDateTime,
    pub read_at: Option<NaiveDateTime>,
}

pub fn recent(
    conn: &mut DbConn,
    user_id: i64,
    scope: &ConversationScope,
    limit: i64,
) -> QueryResult<Vec<Line>> {
    let mut query = notifications::table
        .inner_join(conversations::table)
        .left_join(users::table.on(notifications::actor_id.eq(users::id.nullable())))
        .filter(notifications::user_id.eq(user_id))
        .select((
            notifications::id,
            notifications::kind,
            notifications::conversation_id,
            conversations::subject,
            users::name.nullable(),
            notifications::created_at,
            notifications::read_at,
        ))
        .into_boxed();
    query = match scope {
        ConversationScope::All => query,
        ConversationScope::Teams(ids) => query.filter(conversations::team_id.eq_any(ids.clone())),
        ConversationScope::None => return Ok(Vec::new()),
    };
    query
        .order(notifications::id.desc())
        .limit(limit)
        .load(conn)
}

pub fn unread_count(
    conn: &mut DbConn,
    user_id: i64,
    scope: &ConversationScope,
) -> QueryResult<i64> {
    let mut query = notifications::table
        .inner_join(conversations::table)
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .into_boxed();
    query = match scope {
        ConversationScope::All => query,
        ConversationScope::Teams(ids) => query.filter(conversations::team_id.eq_any(ids.clone())),
        ConversationScope::None => return Ok(0),
    };
    query.count().get_result(conn)
}

/// Marks read: one notification, or all of the user's, or all of the
/// user's about one conversation (when they open it).
pub fn mark_read(
    conn: &mut DbConn,
    user_id: i64,
    id: Option<i64>,
    conversation_id: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let mut query = notifications::table
        .filter(notifications::user_id.eq(user_id))
        .filter(notifications::read_at.is_null())
        .into_boxed();
    if let Some(id) = id {
        query = query.filter(notifications::id.eq(id));
    }
    if let Some(c) = conversation_id {
        query = query.filter(notifications::conversation_id.eq(c));
    }
    let ids: Vec<i64> = query.select(notifications::id).load(conn)?;
    if ids.is_empty() {
        return Ok(0);
    }
    diesel::update(notifications::table.filter(notifications::id.eq_any(ids)))
        .set(notifications::read_at.eq(now))
        .execute(conn)
}
