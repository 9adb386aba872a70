//! Who has a conversation open and who is replying in it, shared by every
//! node through the database: a viewer's row is refreshed while their page
//! listens for changes, and counts only while fresh.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{conversation_viewers, messages, users};

/// A viewer not refreshed for this long has left.
pub const VIEWING_FOR: Duration = Duration::seconds(15);
/// Someone who stopped typing this long ago is no longer replying.
pub const REPLYING_FOR: Duration = Duration::seconds(20);

/// Marks `user_id` as viewing now, and — when `replying` says so — as
/// replying now (`Some(true)`) or no longer (`Some(false)`).
pub fn touch(
    conn: &mut DbConn,
    conversation_id: i64,
    user_id: i64,
    replying: Option<bool>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let row = conversation_viewers::table
        .filter(conversation_viewers::conversation_id.eq(conversation_id))
        .filter(conversation_viewers::user_id.eq(user_id));
    let replying_at = replying.map(|r| r.then_some(now));
    let updated = match replying_at {
        Some(at) => diesel::update(row)
            .set((
                conversation_viewers::seen_at.eq(now),
                conversation_viewers::replying_at.eq(at),
            ))
            .execute(conn)?,
        None => diesel::update(row)
            .set(conversation_viewers::seen_at.eq(now))
            .execute(conn)?,
    };
    if updated > 0 {
        return Ok(());
    }
    let inserted = diesel::insert_into(conversation_viewers::table)
        .values((
            conversation_viewers::conversation_id.eq(conversation_id),
            conversation_viewers::user_id.eq(user_id),
            conversation_viewers::seen_at.eq(now),
            conversation_viewers::replying_at.eq(replying_at.flatten()),
        ))
        .execute(conn);
    match inserted {
        // Another request of the same viewer inserted it meanwhile.
        Err(diesel::result::Error::DatabaseError(
            diesel::result::DatabaseErrorKind::UniqueViolation,
            _,
        )) => Ok(()),
        other => other.map(|_| ()),
    }
}

/// The others with the conversation open now: (name, replying), by name.
pub fn others(
    conn: &mut DbConn,
    conversation_id: i64,
    me: i64,
    now: NaiveDateTime,
) -> QueryResult<Vec<(String, bool)>> {
    let rows: Vec<(String, Option<NaiveDateTime>)> = conversation_viewers::table
        .inner_join(users::table)
        .filter(conversation_viewers::conversation_id.eq(conversation_id))
        .filter(conversation_viewers::user_id.ne(me))
        .filter(conversation_viewers::seen_at.gt(now - VIEWING_FOR))
        .select((users::name, conversation_viewers::replying_at))
        .order(users::name)
        .load(conn)?;
    let replying_since = now - REPLYING_FOR;
    Ok(rows
        .into_iter()
        .map(|(name, at)| (name, at.is_some_and(|at| at > replying_since)))
        .collect())
}

/// The newest message of the conversation (0 when it has none).
pub fn newest_message(conn: &mut DbConn, conversation_id: i64) -> QueryResult<i64> {
    Ok(messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .select(diesel::dsl::max(messages::id))
        .first::<Option<i64>>(conn)?
        .unwrap_or(0))
}

/// Names of those who wrote a reply or a note in the conversation after
/// message `after` — others than `me`: what a reply about to be sent has
/// not seen.
pub fn written_since(
    conn: &mut DbConn,
    conversation_id: i64,
    after: i64,
    me: i64,
) -> QueryResult<Vec<String>> {
    let mut names: Vec<String> = messages::table
        .inner_join(users::table.on(messages::author_user_id.eq(users::id.nullable())))
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::id.gt(after))
        .filter(messages::author_user_id.ne(me))
        .filter(messages::kind.eq("reply"))
        .select(users::name)
        .load(conn)?;
    names.dedup();
    Ok(names)
}
