//! `Idempotency-Key` on POST: the first response to a key is kept (24 hours)
//! and given again for a retry with the same request, so a retried reply is
//! not sent twice. The work and the key are written in one transaction: of
//! two concurrent requests with one key, one does the work and the other
//! gets 409 (PostgreSQL's unique index) or waits and replays (SQLite's
//! write lock).

use actix_web::http::StatusCode;
use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse};
use chrono::Duration;
use diesel::prelude::*;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{ApiError, ApiResult, ApiUser};
use crate::db::schema::idempotency_keys;
use crate::db::{DbConn, write_transaction};
use crate::state::AppState;

const HEADER: &str = "idempotency-key";
const MAX_KEY_LEN: usize = 255;
const KEEP_HOURS: i64 = 24;

/// What a successful write answers.
pub struct Created {
    pub status: StatusCode,
    pub body: Value,
    pub location: Option<String>,
}

impl Created {
    pub fn new(body: impl serde::Serialize, location: String) -> Self {
        Self {
            status: StatusCode::CREATED,
            body: serde_json::to_value(body).unwrap_or_default(),
            location: Some(location),
        }
    }

    fn response(self, replayed: bool) -> HttpResponse {
        let mut response = HttpResponse::build(self.status);
        if let Some(location) = &self.location {
            response.insert_header((header::LOCATION, location.as_str()));
        }
        if replayed {
            response.insert_header(("Idempotent-Replayed", "true"));
        }
        response.json(self.body)
    }
}

/// Runs `work` in a write transaction, once per idempotency key.
pub async fn run<F>(
    state: &AppState,
    api: &ApiUser,
    req: &HttpRequest,
    request: &impl serde::Serialize,
    work: F,
) -> ApiResult<HttpResponse>
where
    F: FnOnce(&mut DbConn) -> ApiResult<Created> + Send + 'static,
{
    let key = match req.headers().get(HEADER) {
        None => None,
        Some(value) => {
            let key = value.to_str().unwrap_or_default().trim().to_string();
            let visible = key.bytes().all(|b| (b' '..=b'~').contains(&b));
            if key.is_empty() || key.len() > MAX_KEY_LEN || !visible {
                return Err(ApiError::bad_request(
                    "invalid_idempotency_key",
                    &format!("`Idempotency-Key` must be 1 to {MAX_KEY_LEN} visible characters."),
                ));
            }
            Some(key)
        }
    };
    let fingerprint = hex::encode(Sha256::digest(
        format!(
            "{} {} {}",
            req.method(),
            req.path(),
            serde_json::to_string(request).unwrap_or_default()
        )
        .as_bytes(),
    ));
    let token_id = api.token_id;
    let now = state.clock.now();
    let (created, replayed) = super::db(state, move |conn| {
        write_transaction(conn, |conn| {
            let Some(key) = key else {
                return Ok((work(conn)?, false));
            };
            diesel::delete(
                idempotency_keys::table
                    .filter(idempotency_keys::created_at.lt(now - Duration::hours(KEEP_HOURS))),
            )
            .execute(conn)?;
            let earlier: Option<(String, i32, Option<String>, String)> = idempotency_keys::table
                .filter(idempotency_keys::token_id.eq(token_id))
                .filter(idempotency_keys::idem_key.eq(&key))
                .select((
                    idempotency_keys::request_hash,
                    idempotency_keys::status,
                    idempotency_keys::location,
                    idempotency_keys::body,
                ))
                .first(conn)
                .optional()?;
            if let Some((hash, status, location, body)) = earlier {
                if hash != fingerprint {
                    return Err(ApiError::new(
                        StatusCode::CONFLICT,
                        "idempotency_key_reused",
                        "This `Idempotency-Key` was used for a different request.",
                    ));
                }
                let created = Created {
                    status: StatusCode::from_u16(status as u16).unwrap_or(StatusCode::OK),
                    body: serde_json::from_str(&body).unwrap_or(Value::Null),
                    location,
                };
                return Ok((created, true));
            }
            let created = work(conn)?;
            let stored = diesel::insert_into(idempotency_keys::table)
                .values((
                    idempotency_keys::token_id.eq(token_id),
                    idempotency_keys::idem_key.eq(&key),
                    idempotency_keys::request_hash.eq(&fingerprint),
                    idempotency_keys::status.eq(i32::from(created.status.as_u16())),
                    idempotency_keys::location.eq(&created.location),
                    idempotency_keys::body.eq(created.body.to_string()),
                    idempotency_keys::created_at.eq(now),
                ))
                .execute(conn);
            match stored {
                Ok(_) => Ok((created, false)),
                Err(diesel::result::Error::DatabaseError(
                    diesel::result::DatabaseErrorKind::UniqueViolation,
                    _,
                )) => Err(ApiError::conflict(
                    "idempotency_in_progress",
                    "A request with this `Idempotency-Key` is being handled; retry shortly.",
                )),
                Err(e) => Err(e.into()),
            }
        })
    })
    .await?;
    Ok(created.response(replayed))
}
