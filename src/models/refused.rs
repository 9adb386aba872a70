//! Refused attempts by collaborators to reach a customer or change a
//! conversation: one row per user, channel, action and hour, counting.

use chrono::{NaiveDateTime, Timelike};
use diesel::prelude::*;
use diesel::upsert::excluded;

use crate::db::DbConn;
use crate::db::schema::{messages, refused_attempts as ra, users};

/// Where an attempt came from.
pub const CHANNELS: [&str; 3] = ["web", "api", "email"];

/// Counts one refused attempt in its hour.
pub fn record(
    conn: &mut DbConn,
    user_id: i64,
    channel: &str,
    action: &str,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let hour = now
        .with_minute(0)
        .and_then(|t| t.with_second(0))
        .and_then(|t| t.with_nanosecond(0))
        .unwrap_or(now);
    crate::on_backend!(conn, |c| diesel::insert_into(ra::table)
        .values((
            ra::user_id.eq(user_id),
            ra::channel.eq(channel),
            ra::action.eq(action),
            ra::hour.eq(hour),
            ra::attempts.eq(1),
        ))
        .on_conflict((ra::user_id, ra::channel, ra::action, ra::hour))
        .do_update()
        .set(ra::attempts.eq(ra::attempts + excluded(ra::attempts)))
        .execute(c))
    .map(|_| ())
}

/// Refused attempts since `since`, per channel (every channel, zeros too).
pub fn per_channel_since(
    conn: &mut DbConn,
    since: NaiveDateTime,
) -> QueryResult<Vec<(&'static str, i64)>> {
    let rows: Vec<(String, i32)> = ra::table
        .filter(ra::hour.ge(since))
        .select((ra::channel, ra::attempts))
        .load(conn)?;
    Ok(CHANNELS
        .iter()
        .map(|&channel| {
            let n = rows
                .iter()
                .filter(|(c, _)| c == channel)
                .map(|(_, n)| i64::from(*n))
                .sum();
            (channel, n)
        })
        .collect())
}

/// Replies to customers written by someone who is a collaborator: none can
/// be, and the settings page shows the count as evidence.
pub fn replies_by_collaborators(conn: &mut DbConn) -> QueryResult<i64> {
    messages::table
        .inner_join(users::table.on(messages::author_user_id.eq(users::id.nullable())))
        .filter(messages::kind.eq("reply"))
        .filter(users::user_type.eq(crate::policy::UserType::Collaborator))
        .count()
        .get_result(conn)
}
