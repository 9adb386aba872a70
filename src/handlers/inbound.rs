//! `POST /inbound/email`: one raw RFC 5322 message in the body, a bearer
//! token (Settings > Email) in `Authorization`, the envelope recipient in
//! `?recipient=` when the MTA knows it. Answers JSON, so `confer mailgate`
//! and mail providers' webhooks can tell a temporary failure (5xx: try
//! again) from a permanent one (4xx).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::json;

use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::mail::parse;
use crate::models::org::OrgSettings;
use crate::services::Ctx as Context;
use crate::state::AppState;

/// The largest message taken in (files of up to 25 MB, base64-encoded).
pub const MAX_MESSAGE_BYTES: usize = 40 * 1024 * 1024;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct InboundQuery {
    pub recipient: String,
}

pub fn error(status: StatusCode, code: &str, message: &str) -> HttpResponse {
    HttpResponse::build(status).json(json!({
        "error": { "code": code, "message": message, "details": null }
    }))
}

pub async fn receive(
    req: HttpRequest,
    state: web::Data<AppState>,
    query: web::Query<InboundQuery>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    let org = state
        .db(|conn| OrgSettings::find(conn)?.ok_or(AppError::NotFound))
        .await?;
    let Some(expected) = org.inbound_token_hash.as_deref() else {
        return Ok(error(
            StatusCode::UNAUTHORIZED,
            "inbound_disabled",
            "Inbound mail is off: create a token in Settings > Email.",
        ));
    };
    let Some(token) = crate::web::bearer(&req) else {
        return Ok(error(
            StatusCode::UNAUTHORIZED,
            "missing_token",
            "Send the inbound token as `Authorization: Bearer <token>`.",
        ));
    };
    if !crate::crypto::secrets_match(&crate::crypto::token_hash(token), expected) {
        return Ok(error(
            StatusCode::UNAUTHORIZED,
            "bad_token",
            "The inbound token is not the one set in Settings > Email.",
        ));
    }
    let parsed = web::block(move || parse::parse(&body))
        .await
        .map_err(|e| AppError::Internal(e.to_string()))?;
    let Some(mail) = parsed else {
        return Ok(error(
            StatusCode::UNPROCESSABLE_ENTITY,
            "not_a_message",
            "The body is not an RFC 5322 message.",
        ));
    };
    let envelope = Some(query.into_inner().recipient).filter(|r| r.contains('@'));
    let config = state.config.clone();
    let now = state.clock.now();
    let receipt = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let ctx = Context {
                    org: &org,
                    config: &config,
                    now,
                };
                Ok::<_, AppError>(crate::inbound::receive(
                    conn,
                    &ctx,
                    &mail,
                    envelope.as_deref(),
                )?)
            })
        })
        .await?;
    Ok(HttpResponse::Ok().json(json!({
        "outcome": receipt.outcome,
        "conversation_id": receipt.conversation_id,
        "detail": receipt.detail,
    })))
}
