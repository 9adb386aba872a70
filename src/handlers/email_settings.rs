//! Settings > Email: where outgoing mail goes, how mail comes in (the
//! endpoint, its token — shown once, stored hashed — and the mailgate
//! command), and the log of the latest inbound mail with what became of it.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::mail::reply_address::bare_address;
use crate::models::inbound_log;
use crate::models::org::OrgSettings;
use crate::pages::{Ctx, format_datetime, html_with_status};
use crate::policy::Flag;
use crate::services::org;
use crate::state::AppState;
use crate::web::NoticeQuery;

pub struct LogRow {
    pub when: String,
    pub sender: String,
    pub subject: String,
    pub outcome: String,
    pub outcome_label: &'static str,
    pub detail: String,
    pub conversation_id: Option<i64>,
}

#[derive(Template)]
#[template(path = "pages/email_settings.html")]
struct EmailPage {
    ctx: Ctx,
    destination: String,
    sender: String,
    reply_example: String,
    endpoint: String,
    token_since: Option<String>,
    /// A token just created, shown this once.
    new_token: Option<String>,
    notice: Option<&'static str>,
    log: Vec<LogRow>,
}

/// Where mail goes, in the reader's words (also on Settings > Outbox).
pub fn destination(current: &CurrentUser, state: &AppState) -> String {
    let t = current.tr;
    match &state.config.smtp_url {
        Some(url) => t.fmt(
            "outbox.smtp",
            &[("server", url.rsplit('@').next().unwrap_or(url))],
        ),
        None => t.fmt(
            "outbox.files",
            &[(
                "dir",
                &state.config.data_dir.join("mail").display().to_string(),
            )],
        ),
    }
}

async fn page(
    current: &CurrentUser,
    state: &AppState,
    new_token: Option<String>,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    let entries = state.db(|conn| Ok(inbound_log::recent(conn, 50)?)).await?;
    let t = current.tr;
    let address = bare_address(&state.config.mail_from);
    let (local, domain) = address.rsplit_once('@').unwrap_or((&address, "localhost"));
    html_with_status(
        &EmailPage {
            ctx: Ctx::for_user(current, "email"),
            destination: destination(current, state),
            sender: state.config.mail_from.clone(),
            reply_example: format!("{local}+note-…@{domain}"),
            endpoint: format!("{}/inbound/email", state.config.public_url),
            token_since: current
                .org
                .inbound_token_created_at
                .map(|at| format_datetime(at, current.tz, current.tr)),
            new_token,
            notice,
            log: entries
                .into_iter()
                .map(|e| LogRow {
                    when: format_datetime(e.received_at, current.tz, current.tr),
                    sender: e.sender.unwrap_or_default(),
                    subject: e.subject,
                    outcome_label: t.get(&format!("email.outcome.{}", e.outcome)),
                    outcome: e.outcome,
                    detail: e.detail,
                    conversation_id: e.conversation_id,
                })
                .collect(),
        },
        StatusCode::OK,
    )
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::SettingsOrg)?;
    let notice = (query.notice() == "removed").then_some("email.notice.token_removed");
    page(&current, &state, None, notice).await
}

/// Creates (or replaces) the inbound token and shows it once.
pub async fn rotate_token(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::SettingsOrg)?;
    let token = crate::crypto::random_token();
    let hash = crate::crypto::token_hash(&token);
    let org = set_token(&req, &current, &state, Some(hash)).await?;
    let mut current = current;
    current.org = org;
    page(
        &current,
        &state,
        Some(token),
        Some("email.notice.token_created"),
    )
    .await
}

/// Turns inbound mail off: the endpoint refuses every request.
pub async fn remove_token(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::SettingsOrg)?;
    set_token(&req, &current, &state, None).await?;
    Ok(crate::web::redirect("/settings/email?notice=removed"))
}

/// Sets or removes the inbound token; the organisation as now stored.
async fn set_token(
    req: &HttpRequest,
    current: &CurrentUser,
    state: &AppState,
    hash: Option<String>,
) -> AppResult<OrgSettings> {
    let who = current.caller(state, req);
    let now = who.now;
    state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let by = who.by();
                org::set_inbound_token(conn, &by, hash.as_deref(), now)?;
                OrgSettings::find(conn)?.ok_or(AppError::NotFound)
            })
        })
        .await
}
