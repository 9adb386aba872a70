//! The public contact form (`/contact`, no sign-in): a customer opens a
//! conversation. A honeypot field catches simple bots, and each address may
//! send a few messages an hour.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::Duration;
use serde::Deserialize;

use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::{Check, FieldErrors};
use crate::models::org::OrgSettings;
use crate::models::rate;
use crate::models::user::normalize_email;
use crate::pages::{Ctx, html_with_status};
use crate::services::{self, conversations};
use crate::state::AppState;

/// Messages one sender (email address) may send per hour.
pub const PER_HOUR: i64 = 5;
/// Messages one client (IP address, through trusted proxies) may send per
/// hour: higher, since an office or a carrier shares one address.
pub const PER_CLIENT_PER_HOUR: i64 = 60;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ContactForm {
    pub name: String,
    pub email: String,
    pub subject: String,
    pub message: String,
    /// Hidden from people; bots fill it in.
    pub website: String,
}

#[derive(Template)]
#[template(path = "pages/contact.html")]
struct ContactPage {
    ctx: Ctx,
    form: ContactForm,
    errors: FieldErrors,
    error: Option<String>,
    sent: Option<i64>,
}

async fn context(req: &HttpRequest, state: &AppState) -> AppResult<Ctx> {
    let name = state
        .db(|conn| Ok(OrgSettings::find(conn)?))
        .await?
        .map_or_else(|| "Confer".into(), |o| o.name);
    Ok(Ctx::for_visitor(req, name))
}

pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    let ctx = context(&req, &state).await?;
    html_with_status(
        &ContactPage {
            ctx,
            form: ContactForm::default(),
            errors: FieldErrors::default(),
            error: None,
            sent: None,
        },
        StatusCode::OK,
    )
}

pub async fn submit(
    req: HttpRequest,
    state: web::Data<AppState>,
    form: web::Form<ContactForm>,
) -> AppResult<HttpResponse> {
    let ctx = context(&req, &state).await?;
    let form = form.into_inner();
    let t = ctx.t;
    if !form.website.is_empty() {
        // A bot: answer like a success, store nothing.
        tracing::info!("contact form honeypot triggered");
        return html_with_status(
            &ContactPage {
                ctx,
                form: ContactForm::default(),
                errors: FieldErrors::default(),
                error: None,
                sent: Some(0),
            },
            StatusCode::OK,
        );
    }
    let mut errors = FieldErrors::default();
    let mut check = Check {
        t,
        errors: &mut errors,
    };
    check.required("name", &form.name, 160);
    check.email("email", &form.email);
    check.required("subject", &form.subject, 200);
    check.required("message", &form.message, 20_000);
    if !errors.is_empty() {
        return html_with_status(
            &ContactPage {
                ctx,
                form,
                errors,
                error: None,
                sent: None,
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let ip = crate::net::client_ip_text(&req);
    let now = state.clock.now();
    let f = form.clone();
    let config = state.config.clone();
    let created = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                let email = normalize_email(&f.email);
                let limits = [
                    (format!("contact-ip:{ip}"), PER_CLIENT_PER_HOUR),
                    (format!("contact:{email}"), PER_HOUR),
                ];
                for (scope, limit) in limits {
                    if !rate::allow(conn, &scope, limit, Duration::hours(1), now)? {
                        return Ok(None);
                    }
                }
                // Into the intake team's queue, if the organisation chose one.
                let org = OrgSettings::find(conn)?.ok_or(AppError::NotFound)?;
                let ctx = services::Ctx {
                    org: &org,
                    config: &config,
                    now,
                };
                let message = conversations::ContactMessage {
                    name: &f.name,
                    email: &email,
                    subject: &f.subject,
                    message: &f.message,
                };
                let id = conversations::open_from_contact_form(conn, &ctx, &message)?;
                Ok::<_, AppError>(Some(id))
            })
        })
        .await?;
    match created {
        Some(id) => html_with_status(
            &ContactPage {
                ctx,
                form: ContactForm::default(),
                errors: FieldErrors::default(),
                error: None,
                sent: Some(id),
            },
            StatusCode::OK,
        ),
        None => {
            let error = Some(t.get("contact.error.rate").to_string());
            html_with_status(
                &ContactPage {
                    ctx,
                    form,
                    errors: FieldErrors::default(),
                    error,
                    sent: None,
                },
                StatusCode::TOO_MANY_REQUESTS,
            )
        }
    }
}
