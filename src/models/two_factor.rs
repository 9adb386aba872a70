//! Second factors as stored: the sealed TOTP secret with the newest step a
//! code was accepted for, hashed single-use recovery codes, and hashed
//! "remember this device" tokens. `users.two_factor_since` says whether a
//! factor is on; these rows exist only while it is.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{recovery_codes, remembered_devices, user_totp, users};

/// The sealed secret and the newest accepted step.
pub fn secret(conn: &mut DbConn, user_id: i64) -> QueryResult<Option<(String, i64)>> {
    user_totp::table
        .find(user_id)
        .select((user_totp::secret, user_totp::last_step))
        .first(conn)
        .optional()
}

/// Turns the second factor on with this sealed secret and these recovery
/// code hashes, replacing whatever was there.
pub fn enable(
    conn: &mut DbConn,
    user_id: i64,
    sealed_secret: &str,
    first_step: i64,
    code_hashes: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    remove(conn, user_id)?;
    diesel::insert_into(user_totp::table)
        .values((
            user_totp::user_id.eq(user_id),
            user_totp::secret.eq(sealed_secret),
            user_totp::last_step.eq(first_step),
            user_totp::created_at.eq(now),
        ))
        .execute(conn)?;
    replace_recovery_codes(conn, user_id, code_hashes)?;
    diesel::update(users::table.find(user_id))
        .set((
            users::two_factor_since.eq(Some(now)),
            users::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Turns it off: the secret, the recovery codes and the remembered devices go.
pub fn remove(conn: &mut DbConn, user_id: i64) -> QueryResult<()> {
    diesel::delete(user_totp::table.find(user_id)).execute(conn)?;
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    diesel::delete(remembered_devices::table.filter(remembered_devices::user_id.eq(user_id)))
        .execute(conn)?;
    diesel::update(users::table.find(user_id))
        .set(users::two_factor_since.eq(None::<NaiveDateTime>))
        .execute(conn)
        .map(|_| ())
}

/// Records `step` as used, unless a concurrent sign-in used it (or a newer
/// one) first: true when this call won.
pub fn use_step(conn: &mut DbConn, user_id: i64, step: i64) -> QueryResult<bool> {
    diesel::update(
        user_totp::table
            .find(user_id)
            .filter(user_totp::last_step.lt(step)),
    )
    .set(user_totp::last_step.eq(step))
    .execute(conn)
    .map(|n| n == 1)
}

pub fn replace_recovery_codes(
    conn: &mut DbConn,
    user_id: i64,
    code_hashes: &[String],
) -> QueryResult<()> {
    diesel::delete(recovery_codes::table.filter(recovery_codes::user_id.eq(user_id)))
        .execute(conn)?;
    for hash in code_hashes {
        diesel::insert_into(recovery_codes::table)
            .values((
                recovery_codes::user_id.eq(user_id),
                recovery_codes::code_hash.eq(hash),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Uses the unused recovery code with this hash: true when there was one.
pub fn use_recovery_code(
    conn: &mut DbConn,
    user_id: i64,
    code_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::update(
        recovery_codes::table
            .filter(recovery_codes::user_id.eq(user_id))
            .filter(recovery_codes::code_hash.eq(code_hash))
            .filter(recovery_codes::used_at.is_null()),
    )
    .set(recovery_codes::used_at.eq(Some(now)))
    .execute(conn)
    .map(|n| n > 0)
}

pub fn unused_recovery_codes(conn: &mut DbConn, user_id: i64) -> QueryResult<i64> {
    recovery_codes::table
        .filter(recovery_codes::user_id.eq(user_id))
        .filter(recovery_codes::used_at.is_null())
        .count()
        .get_result(conn)
}

pub fn remember_device(
    conn: &mut DbConn,
    user_id: i64,
    token_hash: &str,
    expires_at: NaiveDateTime,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::delete(remembered_devices::table.filter(remembered_devices::expires_at.le(now)))
        .execute(conn)?;
    diesel::insert_into(remembered_devices::table)
        .values((
            remembered_devices::user_id.eq(user_id),
            remembered_devices::token_hash.eq(token_hash),
            remembered_devices::expires_at.eq(expires_at),
            remembered_devices::created_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Is the device with this token remembered for this user, now?
pub fn device_remembered(
    conn: &mut DbConn,
    user_id: i64,
    token_hash: &str,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    diesel::select(diesel::dsl::exists(
        remembered_devices::table
            .filter(remembered_devices::user_id.eq(user_id))
            .filter(remembered_devices::token_hash.eq(token_hash))
            .filter(remembered_devices::expires_at.gt(now)),
    ))
    .get_result(conn)
}
