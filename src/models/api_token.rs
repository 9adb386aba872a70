//! Personal access tokens for `/api/v1`: stored as SHA-256 (the token is
//! shown once), with a short prefix to recognise it by, and the time it was
//! last used. A revoked token stays listed with its revocation time.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{api_tokens, users};

/// What every token starts with, so secret scanners can recognise it.
pub const TOKEN_PREFIX: &str = "confer_pat_";

#[derive(Queryable, Clone, Debug)]
pub struct ApiToken {
    pub id: i64,
    pub user_id: i64,
    pub name: String,
    pub token_hash: String,
    pub prefix: String,
    pub created_at: NaiveDateTime,
    pub last_used_at: Option<NaiveDateTime>,
    pub revoked_at: Option<NaiveDateTime>,
}

/// A token with its owner, for the admins' list.
pub struct OwnedToken {
    pub token: ApiToken,
    pub owner_name: String,
    pub owner_email: String,
}

/// A new secret: the full token (shown once) and what is stored.
pub fn generate() -> (String, String, String) {
    let token = format!("{TOKEN_PREFIX}{}", crate::crypto::random_token());
    let prefix = token[..TOKEN_PREFIX.len() + 6].to_string();
    let hash = crate::crypto::token_hash(&token);
    (token, prefix, hash)
}

pub fn create(
    conn: &mut DbConn,
    user_id: i64,
    name: &str,
    now: NaiveDateTime,
) -> QueryResult<(i64, String)> {
    let (token, prefix, hash) = generate();
    let id = diesel::insert_into(api_tokens::table)
        .values((
            api_tokens::user_id.eq(user_id),
            api_tokens::name.eq(name),
            api_tokens::token_hash.eq(hash),
            api_tokens::prefix.eq(prefix),
            api_tokens::created_at.eq(now),
        ))
        .returning(api_tokens::id)
        .get_result(conn)?;
    Ok((id, token))
}

/// The live token with this secret.
pub fn find_live(conn: &mut DbConn, token: &str) -> QueryResult<Option<ApiToken>> {
    let hash = crate::crypto::token_hash(token);
    crate::on_backend!(conn, |c| api_tokens::table
        .filter(api_tokens::token_hash.eq(&hash))
        .filter(api_tokens::revoked_at.is_null())
        .first(c)
        .optional())
}

pub fn of_user(conn: &mut DbConn, user_id: i64) -> QueryResult<Vec<ApiToken>> {
    api_tokens::table
        .filter(api_tokens::user_id.eq(user_id))
        .order((api_tokens::revoked_at.is_not_null(), api_tokens::id.desc()))
        .load(conn)
}

/// Every live token, newest first (admins).
pub fn all_live(conn: &mut DbConn) -> QueryResult<Vec<OwnedToken>> {
    let rows: Vec<(ApiToken, String, String)> = api_tokens::table
        .inner_join(users::table)
        .filter(api_tokens::revoked_at.is_null())
        .order(api_tokens::id.desc())
        .select((api_tokens::all_columns, users::name, users::email))
        .load(conn)?;
    Ok(rows
        .into_iter()
        .map(|(token, owner_name, owner_email)| OwnedToken {
            token,
            owner_name,
            owner_email,
        })
        .collect())
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<ApiToken>> {
    api_tokens::table.find(id).first(conn).optional()
}

pub fn revoke(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .find(id)
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Deactivation kills every token of the user.
pub fn revoke_all_of(conn: &mut DbConn, user_id: i64, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        api_tokens::table
            .filter(api_tokens::user_id.eq(user_id))
            .filter(api_tokens::revoked_at.is_null()),
    )
    .set(api_tokens::revoked_at.eq(now))
    .execute(conn)
}

/// Records that the token was used now.
pub fn touch(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(api_tokens::table.find(id))
        .set(api_tokens::last_used_at.eq(now))
        .execute(conn)
        .map(|_| ())
}
