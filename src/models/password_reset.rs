//! Password reset links: single use, valid for an hour, stored as a hash.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::password_resets;
use crate::models::invitation::{hash_token, new_token};

pub const VALID_MINUTES: i64 = 60;
/// At most one reset email per account in this many minutes.
pub const RESEND_MINUTES: i64 = 5;

/// A new link for `user_id`; returns the token for the email.
pub fn create(conn: &mut DbConn, user_id: i64, now: NaiveDateTime) -> QueryResult<String> {
    let token = new_token();
    diesel::insert_into(password_resets::table)
        .values((
            password_resets::user_id.eq(user_id),
            password_resets::token_hash.eq(hash_token(&token)),
            password_resets::created_at.eq(now),
            password_resets::expires_at.eq(now + Duration::minutes(VALID_MINUTES)),
        ))
        .execute(conn)?;
    Ok(token)
}

/// Whether a link was sent to this user within the resend interval.
pub fn sent_recently(conn: &mut DbConn, user_id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let since = now - Duration::minutes(RESEND_MINUTES);
    let recent: i64 = password_resets::table
        .filter(password_resets::user_id.eq(user_id))
        .filter(password_resets::created_at.gt(since))
        .count()
        .get_result(conn)?;
    Ok(recent > 0)
}

/// The user a token belongs to, if it is unused and unexpired.
pub fn valid_user(
    conn: &mut DbConn,
    token: &str,
    now: NaiveDateTime,
) -> QueryResult<Option<(i64, i64)>> {
    password_resets::table
        .filter(password_resets::token_hash.eq(hash_token(token)))
        .filter(password_resets::used_at.is_null())
        .filter(password_resets::expires_at.ge(now))
        .select((password_resets::id, password_resets::user_id))
        .first(conn)
        .optional()
}

/// Marks every open link of the user used (the one clicked and any other).
/// Returns false when the clicked one was used meanwhile.
pub fn use_all(conn: &mut DbConn, id: i64, user_id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let claimed = diesel::update(
        password_resets::table
            .find(id)
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now))
    .execute(conn)?;
    diesel::update(
        password_resets::table
            .filter(password_resets::user_id.eq(user_id))
            .filter(password_resets::used_at.is_null()),
    )
    .set(password_resets::used_at.eq(now))
    .execute(conn)?;
    Ok(claimed == 1)
}
