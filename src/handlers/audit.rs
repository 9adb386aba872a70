//! Settings > Audit log: filterable, paginated newest first, exportable as
//! CSV. There is no way to change or delete an entry.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::models::audit::{self, AuditEntry, AuditFilter};
use crate::pages::{Ctx, format_datetime, html_with_status};
use crate::policy::{self, Action, Flag};
use crate::state::AppState;

const PAGE_SIZE: i64 = 50;
/// An export holds at most this many entries (the newest matching).
const EXPORT_LIMIT: i64 = 100_000;

#[derive(Deserialize, Default, Clone)]
pub struct AuditQuery {
    pub actor: Option<String>,
    pub target: Option<String>,
    pub action: Option<String>,
    pub before: Option<i64>,
}

impl AuditQuery {
    fn filter(&self) -> AuditFilter {
        AuditFilter {
            actor: self.actor.clone(),
            target: self.target.clone(),
            action: self.action.clone(),
            before_id: self.before,
        }
    }

    fn link(&self, before: Option<i64>, path: &str) -> String {
        let mut parts = Vec::new();
        for (key, value) in [
            ("actor", &self.actor),
            ("target", &self.target),
            ("action", &self.action),
        ] {
            if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                parts.push(format!("{key}={}", crate::urlencoded::url_encode(v)));
            }
        }
        if let Some(b) = before {
            parts.push(format!("before={b}"));
        }
        if parts.is_empty() {
            path.to_string()
        } else {
            format!("{path}?{}", parts.join("&"))
        }
    }
}

pub struct Row {
    pub when: String,
    pub actor: String,
    pub action: String,
    pub target: String,
    pub before: String,
    pub after: String,
    pub ip: String,
}

fn row(entry: AuditEntry, tz: chrono_tz::Tz, t: crate::i18n::Tr) -> Row {
    Row {
        when: format_datetime(entry.created_at, tz, t),
        actor: entry.actor_name,
        action: entry.action,
        target: entry.target_label,
        before: entry.before_state.unwrap_or_default(),
        after: entry.after_state.unwrap_or_default(),
        ip: entry.ip.unwrap_or_default(),
    }
}

#[derive(Template)]
#[template(path = "pages/audit.html")]
struct AuditPage {
    ctx: Ctx,
    query: AuditQuery,
    actions: Vec<String>,
    rows: Vec<Row>,
    next: Option<String>,
    export: String,
}

impl AuditPage {
    fn value<'a>(&self, v: &'a Option<String>) -> &'a str {
        v.as_deref().unwrap_or("")
    }

    fn is_action(&self, action: &str) -> bool {
        self.query.action.as_deref() == Some(action)
    }
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::SettingsAudit))?;
    let query = query.into_inner();
    let filter = query.filter();
    let ((entries, more), actions) = state
        .db(move |conn| {
            Ok((
                audit::page(conn, &filter, PAGE_SIZE)?,
                audit::actions(conn)?,
            ))
        })
        .await?;
    let next = more
        .then(|| {
            entries
                .last()
                .map(|e| query.link(Some(e.id), "/settings/audit"))
        })
        .flatten();
    let rows = entries
        .into_iter()
        .map(|e| row(e, current.tz, current.tr))
        .collect();
    html_with_status(
        &AuditPage {
            ctx: Ctx::for_user(&current, "audit"),
            export: query.link(None, "/settings/audit.csv"),
            query,
            actions,
            rows,
            next,
        },
        StatusCode::OK,
    )
}

pub async fn export(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<AuditQuery>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::SettingsAudit))?;
    let filter = AuditFilter {
        before_id: None,
        ..query.filter()
    };
    let (entries, _) = state
        .db(move |conn| Ok(audit::page(conn, &filter, EXPORT_LIMIT)?))
        .await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    out.write_record([
        "time_utc",
        "actor",
        "action",
        "target_type",
        "target",
        "before",
        "after",
        "ip",
    ])
    .map_err(csv_error)?;
    for e in entries {
        let when = e.created_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let cells = [
            when.as_str(),
            &e.actor_name,
            &e.action,
            &e.target_type,
            &e.target_label,
            e.before_state.as_deref().unwrap_or(""),
            e.after_state.as_deref().unwrap_or(""),
            e.ip.as_deref().unwrap_or(""),
        ];
        out.write_record(
            cells
                .iter()
                .map(|c| crate::web::csv_cell(c))
                .collect::<Vec<_>>()
                .iter()
                .map(|c| c.as_ref()),
        )
        .map_err(csv_error)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    Ok(crate::web::csv_download("audit-log.csv", body))
}
