//! Invitations: a single-use link to set a password, valid 7 days. Only a
//! hash of the token is stored; resending supersedes the old link.

use chrono::{Duration, NaiveDateTime};
use diesel::prelude::*;
use sha2::{Digest, Sha256};

use crate::db::DbConn;
use crate::db::schema::{invitations, outbox};

pub const VALID_DAYS: i64 = 7;

#[derive(Queryable, Clone, Debug)]
pub struct Invitation {
    pub id: i64,
    pub user_id: i64,
    pub token_hash: String,
    pub invited_by: Option<i64>,
    pub outbox_id: Option<i64>,
    pub created_at: NaiveDateTime,
    pub expires_at: NaiveDateTime,
    pub accepted_at: Option<NaiveDateTime>,
    pub superseded: bool,
}

/// What a link is worth when someone opens it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LinkState {
    Valid,
    Expired,
    Used,
}

impl Invitation {
    pub fn state(&self, now: NaiveDateTime) -> LinkState {
        if self.accepted_at.is_some() || self.superseded {
            LinkState::Used
        } else if now > self.expires_at {
            LinkState::Expired
        } else {
            LinkState::Valid
        }
    }
}

/// Delivery state of an invitation's email, for the users list.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Delivery {
    pub status: String,
    pub last_error: Option<String>,
    pub expires_at: NaiveDateTime,
}

pub fn hash_token(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// A fresh token for a link; only its hash is stored.
pub fn new_token() -> String {
    hex::encode(rand::random::<[u8; 32]>())
}

/// Stores a new link for `user_id` whose email is outbox row `outbox_id`.
pub fn insert(
    conn: &mut DbConn,
    user_id: i64,
    invited_by: Option<i64>,
    token: &str,
    outbox_id: i64,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::insert_into(invitations::table)
        .values((
            invitations::user_id.eq(user_id),
            invitations::token_hash.eq(hash_token(token)),
            invitations::invited_by.eq(invited_by),
            invitations::outbox_id.eq(outbox_id),
            invitations::created_at.eq(now),
            invitations::expires_at.eq(now + Duration::days(VALID_DAYS)),
            invitations::superseded.eq(false),
        ))
        .execute(conn)
        .map(|_| ())
}

pub fn supersede_all(conn: &mut DbConn, user_id: i64) -> QueryResult<()> {
    diesel::update(
        invitations::table
            .filter(invitations::user_id.eq(user_id))
            .filter(invitations::accepted_at.is_null()),
    )
    .set(invitations::superseded.eq(true))
    .execute(conn)
    .map(|_| ())
}

pub fn find_by_token(conn: &mut DbConn, token: &str) -> QueryResult<Option<Invitation>> {
    invitations::table
        .filter(invitations::token_hash.eq(hash_token(token)))
        .first(conn)
        .optional()
}

/// The newest invitation of each of these users with its mail's delivery
/// state, in one query.
pub fn deliveries(
    conn: &mut DbConn,
    user_ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, Delivery>> {
    let rows: Vec<(i64, NaiveDateTime, Option<String>, Option<String>)> = invitations::table
        .left_join(outbox::table)
        .filter(invitations::user_id.eq_any(user_ids))
        .filter(invitations::superseded.eq(false))
        .filter(invitations::accepted_at.is_null())
        .select((
            invitations::user_id,
            invitations::expires_at,
            outbox::status.nullable(),
            outbox::last_error.nullable(),
        ))
        .order(invitations::id)
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(user_id, expires_at, status, last_error)| {
            (
                user_id,
                Delivery {
                    status: status.unwrap_or_else(|| "queued".into()),
                    last_error,
                    expires_at,
                },
            )
        })
        .collect())
}
