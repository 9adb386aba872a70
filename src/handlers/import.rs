//! Settings > Users > Import: upload a CSV, preview every row's outcome,
//! then confirm to import all valid rows in one transaction.

use actix_multipart::Multipart;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use base64::Engine;
use base64::engine::general_purpose::STANDARD as BASE64;
use futures_util::StreamExt;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::import::{self, RowOutcome, RowPlan, Summary};
use crate::pages::{Ctx, html_with_status};
use crate::policy::Flag;
use crate::state::AppState;

/// Largest file accepted.
pub const MAX_BYTES: usize = 5 * 1024 * 1024;

#[derive(Template)]
#[template(path = "pages/import.html")]
struct UploadPage {
    ctx: Ctx,
    error: Option<String>,
    columns: [&'static str; 10],
}

pub struct PreviewRow {
    pub line: usize,
    pub email: String,
    pub name: String,
    pub label: &'static str,
    pub class: &'static str,
    pub detail: String,
}

#[derive(Template)]
#[template(path = "pages/import_preview.html")]
struct PreviewPage {
    ctx: Ctx,
    rows: Vec<PreviewRow>,
    summary: Summary,
    payload: String,
}

fn upload_page(current: &CurrentUser, error: Option<String>) -> AppResult<HttpResponse> {
    let status = if error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    html_with_status(
        &UploadPage {
            ctx: Ctx::for_user(current, "users"),
            error,
            columns: import::COLUMNS,
        },
        status,
    )
}

pub async fn show(current: CurrentUser) -> AppResult<HttpResponse> {
    current.ensure(Flag::UsersManage)?;
    upload_page(&current, None)
}

pub async fn template(current: CurrentUser) -> AppResult<HttpResponse> {
    current.ensure(Flag::UsersManage)?;
    Ok(crate::web::csv_download(
        "confer-users-template.csv",
        import::TEMPLATE.as_bytes().to_vec(),
    ))
}

/// Reads the `file` field of the upload, refusing anything too large.
async fn read_file(mut multipart: Multipart) -> Result<Option<Vec<u8>>, &'static str> {
    while let Some(field) = multipart.next().await {
        let mut field = field.map_err(|_| "import.error.upload")?;
        if field.name() != Some("file") {
            continue;
        }
        let mut bytes = Vec::new();
        while let Some(chunk) = field.next().await {
            let chunk = chunk.map_err(|_| "import.error.upload")?;
            if bytes.len() + chunk.len() > MAX_BYTES {
                return Err("import.error.too_large");
            }
            bytes.extend_from_slice(&chunk);
        }
        return Ok(Some(bytes));
    }
    Ok(None)
}

async fn make_plan(
    current: &CurrentUser,
    state: &AppState,
    bytes: &[u8],
) -> AppResult<Result<Vec<RowPlan>, String>> {
    let rows = match import::parse(bytes, current.tr) {
        Ok(rows) => rows,
        Err(message) => return Ok(Err(message)),
    };
    let actor = current.actor.clone();
    let org = current.org.clone();
    let t = current.tr;
    let now = state.clock.now();
    let plans = state
        .db(move |conn| Ok(import::plan(conn, &actor, &org, &rows, t, now)?))
        .await?;
    Ok(Ok(plans))
}

fn preview_rows(plans: &[RowPlan], current: &CurrentUser) -> Vec<PreviewRow> {
    let t = current.tr;
    plans
        .iter()
        .map(|plan| {
            let (label, class, detail) = match &plan.outcome {
                RowOutcome::Add => (t.get("import.outcome.add"), "pill--open", String::new()),
                RowOutcome::Update(fields) => (
                    t.get("import.outcome.update"),
                    "pill--pending",
                    fields.join(", "),
                ),
                RowOutcome::Unchanged => (
                    t.get("import.outcome.unchanged"),
                    "pill--neutral",
                    String::new(),
                ),
                RowOutcome::Error(message) => (
                    t.get("import.outcome.error"),
                    "pill--danger",
                    message.clone(),
                ),
            };
            PreviewRow {
                line: plan.line,
                email: plan.email.clone(),
                name: plan.name.clone(),
                label,
                class,
                detail,
            }
        })
        .collect()
}

pub async fn preview(
    current: CurrentUser,
    state: web::Data<AppState>,
    multipart: Multipart,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::UsersManage)?;
    let bytes = match read_file(multipart).await {
        Ok(Some(bytes)) if !bytes.is_empty() => bytes,
        Ok(_) => {
            return upload_page(
                &current,
                Some(current.tr.get("import.error.no_file").into()),
            );
        }
        Err(key) => return upload_page(&current, Some(current.tr.get(key).into())),
    };
    let plans = match make_plan(&current, &state, &bytes).await? {
        Ok(plans) => plans,
        Err(message) => return upload_page(&current, Some(message)),
    };
    html_with_status(
        &PreviewPage {
            ctx: Ctx::for_user(&current, "users"),
            summary: import::summarize(&plans),
            rows: preview_rows(&plans, &current),
            payload: BASE64.encode(&bytes),
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ConfirmForm {
    pub payload: String,
}

pub async fn confirm(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<ConfirmForm>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::UsersManage)?;
    let Ok(bytes) = BASE64.decode(form.payload.trim()) else {
        return upload_page(&current, Some(current.tr.get("import.error.upload").into()));
    };
    let rows = match import::parse(&bytes, current.tr) {
        Ok(rows) => rows,
        Err(message) => return upload_page(&current, Some(message)),
    };
    let actor = current.actor.clone();
    let audit_actor = current.audit_actor(&req);
    let org = current.org.clone();
    let t = current.tr;
    let public_url = state.config.public_url.clone();
    let now = state.clock.now();
    // The plan is made again inside the transaction, so it reflects the
    // database at the moment of writing, not at the preview.
    let (added, updated) = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let plans = import::plan(conn, &actor, &org, &rows, t, now)?;
                let by = crate::services::By {
                    actor: &actor,
                    audit: &audit_actor,
                };
                import::apply(conn, &by, &org, &plans, &public_url, now).map_err(AppError::from)
            })
        })
        .await?;
    tracing::info!(added, updated, "users imported");
    Ok(crate::web::redirect(&format!(
        "/settings/users?notice=imported&added={added}&updated={updated}"
    )))
}
