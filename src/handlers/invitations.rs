//! Accepting an invitation: the link from the email leads to a page to set a
//! password; accepting signs the person in — unless their seasonal access
//! window has not started (or has ended), which the page then says. Expired
//! or used links say so.

use actix_session::Session;
use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth;
use crate::db::write_transaction;
use crate::error::AppResult;
use crate::forms::{Check, FieldErrors};
use crate::models::invitation::{self, Invitation, LinkState};
use crate::models::org::OrgSettings;
use crate::models::user::{AccessState, User};
use crate::pages::{Ctx, html_with_status};
use crate::services::users as admin;
use crate::state::AppState;

#[derive(Template)]
#[template(path = "pages/invitation.html")]
struct InvitationPage {
    ctx: Ctx,
    token: String,
    state: &'static str,
    name: String,
    email: String,
    errors: FieldErrors,
    /// Outside the seasonal access window: when it starts or ended.
    window: Option<String>,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AcceptForm {
    pub password: String,
    pub password_confirm: String,
}

type Found = Option<(Invitation, User, OrgSettings)>;

async fn find(state: &AppState, token: String) -> AppResult<Found> {
    state
        .db(move |conn| {
            let Some(invitation) = invitation::find_by_token(conn, &token)? else {
                return Ok(None);
            };
            let user = User::find(conn, invitation.user_id)?;
            let org = OrgSettings::find(conn)?;
            Ok(user.zip(org).map(|(u, o)| (invitation, u, o)))
        })
        .await
}

fn page(
    req: &HttpRequest,
    token: &str,
    found: &Found,
    state: LinkStateView,
    errors: FieldErrors,
    now: chrono::NaiveDateTime,
) -> InvitationPage {
    let (name, email, org_name, lang) = match found {
        Some((_, user, org)) => (
            user.name.clone(),
            user.email.clone(),
            org.name.clone(),
            Some(user.lang(org)),
        ),
        None => (String::new(), String::new(), "Confer".into(), None),
    };
    let mut ctx = Ctx::for_visitor(req, org_name);
    if let Some(lang) = lang {
        ctx.t = crate::i18n::Tr::new(lang);
    }
    let window = found
        .as_ref()
        .and_then(|(_, user, org)| window_message(user, org, now, ctx.t));
    InvitationPage {
        ctx,
        token: token.to_string(),
        state: state.key(),
        name,
        email,
        errors,
        window,
    }
}

/// What a seasonal user outside their access window is told: when it
/// starts (they may set their password now) or that it ended.
fn window_message(
    user: &User,
    org: &OrgSettings,
    now: chrono::NaiveDateTime,
    t: crate::i18n::Tr,
) -> Option<String> {
    let date = |day| crate::pages::format_date(day, t);
    match user.window_state(org.today(now)) {
        AccessState::WindowNotStarted(day) => {
            Some(t.fmt("login.window_not_started", &[("date", &date(day))]))
        }
        AccessState::WindowEnded(day) => Some(t.fmt("login.window_ended", &[("date", &date(day))])),
        _ => None,
    }
}

#[derive(Clone, Copy)]
enum LinkStateView {
    Valid,
    /// The password was just set, but the access window keeps them out.
    Waiting,
    Expired,
    Used,
    Unknown,
}

impl LinkStateView {
    fn key(self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Waiting => "waiting",
            Self::Expired => "expired",
            Self::Used => "used",
            Self::Unknown => "unknown",
        }
    }

    fn of(found: &Found, now: chrono::NaiveDateTime) -> Self {
        match found {
            None => Self::Unknown,
            Some((_, user, _)) if !user.active => Self::Used,
            Some((invitation, _, _)) => match invitation.state(now) {
                LinkState::Valid => Self::Valid,
                LinkState::Expired => Self::Expired,
                LinkState::Used => Self::Used,
            },
        }
    }

    fn status(self) -> StatusCode {
        match self {
            Self::Valid | Self::Waiting => StatusCode::OK,
            Self::Expired | Self::Used => StatusCode::GONE,
            Self::Unknown => StatusCode::NOT_FOUND,
        }
    }
}

pub async fn show(
    req: HttpRequest,
    state: web::Data<AppState>,
    token: web::Path<String>,
) -> AppResult<HttpResponse> {
    let found = find(&state, token.clone()).await?;
    let now = state.clock.now();
    let view = LinkStateView::of(&found, now);
    html_with_status(
        &page(&req, &token, &found, view, FieldErrors::default(), now),
        view.status(),
    )
}

pub async fn accept(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    token: web::Path<String>,
    form: web::Form<AcceptForm>,
) -> AppResult<HttpResponse> {
    let found = find(&state, token.clone()).await?;
    let now = state.clock.now();
    let view = LinkStateView::of(&found, now);
    let Some((invitation, user, org)) = found
        .clone()
        .filter(|_| matches!(view, LinkStateView::Valid))
    else {
        return html_with_status(
            &page(&req, &token, &found, view, FieldErrors::default(), now),
            view.status(),
        );
    };
    let mut errors = FieldErrors::default();
    let t = crate::i18n::Tr::new(user.lang(&org));
    Check {
        t,
        errors: &mut errors,
    }
    .new_password(
        "password",
        &form.password,
        "password_confirm",
        &form.password_confirm,
    );
    if !errors.is_empty() {
        return html_with_status(
            &page(&req, &token, &found, view, errors, now),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }
    let hash = auth::hash_password(form.password.clone(), state.config.bcrypt_cost).await?;
    let accepted = state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                admin::accept_invitation(conn, invitation.id, user.id, &hash, now)
            })?)
        })
        .await?;
    let Some(user) = accepted else {
        // Someone used the link a moment earlier.
        return html_with_status(
            &page(
                &req,
                &token,
                &found,
                LinkStateView::Used,
                FieldErrors::default(),
                now,
            ),
            StatusCode::GONE,
        );
    };
    if user.access_state(org.today(now)) != AccessState::Allowed {
        // Signed in, they would land on the sign-in page with no word why.
        return html_with_status(
            &page(
                &req,
                &token,
                &found,
                LinkStateView::Waiting,
                FieldErrors::default(),
                now,
            ),
            StatusCode::OK,
        );
    }
    auth::sign_in(&session, &user, user.lang(&org))?;
    tracing::info!(user_id = user.id, "invitation accepted");
    Ok(crate::web::redirect("/"))
}
