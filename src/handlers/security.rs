//! Settings > Security: who must use two-factor sign-in, and single sign-on
//! with one OpenID Connect provider (read-only here when the environment
//! sets it). Saving is `services::security::update_settings`.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::forms::FieldErrors;
use crate::handlers::settings::SavedQuery;
use crate::pages::{Ctx, html_with_status};
use crate::policy::{self, Action, Flag, TwoFactorRule};
use crate::services::security::{self, SecurityInput};
use crate::state::AppState;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SecurityForm {
    pub two_factor: String,
    pub sso_issuer: String,
    pub sso_client_id: String,
    /// Blank keeps the stored secret.
    pub sso_client_secret: String,
    pub sso_label: String,
    pub sso_create_domains: String,
    /// A checkbox: present when ticked.
    pub sso_only: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/settings_security.html")]
struct SecurityPage {
    ctx: Ctx,
    form: SecurityForm,
    errors: FieldErrors,
    saved: bool,
    rules: [TwoFactorRule; 3],
    /// SSO is set by `CONFER_OIDC_*`: shown, not editable.
    from_environment: bool,
    secret_stored: bool,
    callback_url: String,
}

impl SecurityPage {
    fn rule_label(&self, rule: &TwoFactorRule) -> &'static str {
        self.ctx.t.get(match rule {
            TwoFactorRule::Off => "security.two_factor.off",
            TwoFactorRule::Admins => "security.two_factor.admins",
            TwoFactorRule::Everyone => "security.two_factor.everyone",
        })
    }
}

fn page(current: &CurrentUser, state: &AppState, form: Option<SecurityForm>) -> SecurityPage {
    let org = &current.org;
    let env = state.config.oidc.as_ref();
    let form = form.unwrap_or_else(|| SecurityForm {
        two_factor: org.two_factor_required.clone(),
        sso_issuer: env
            .map(|e| e.issuer.clone())
            .or_else(|| org.sso_issuer.clone())
            .unwrap_or_default(),
        sso_client_id: env
            .map(|e| e.client_id.clone())
            .or_else(|| org.sso_client_id.clone())
            .unwrap_or_default(),
        sso_client_secret: String::new(),
        sso_label: env
            .and_then(|e| e.label.clone())
            .or_else(|| org.sso_label.clone())
            .unwrap_or_default(),
        sso_create_domains: org.sso_create_domains.clone(),
        sso_only: org.sso_only.then(|| "on".into()),
    });
    SecurityPage {
        ctx: Ctx::for_user(current, "security"),
        form,
        errors: FieldErrors::default(),
        saved: false,
        rules: TwoFactorRule::ALL,
        from_environment: env.is_some(),
        secret_stored: env.map_or(org.sso_client_secret.is_some(), |e| {
            e.client_secret.is_some()
        }),
        callback_url: format!("{}{}", state.config.public_url, crate::sso::CALLBACK_PATH),
    }
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<SavedQuery>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::SettingsOrg))?;
    let mut page = page(&current, &state, None);
    page.saved = query.saved.is_some();
    html_with_status(&page, StatusCode::OK)
}

pub async fn save(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<SecurityForm>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::SettingsOrg))?;
    let mut form = form.into_inner();
    let environment_provider = state.config.oidc.is_some();
    let caller = current.caller(&state, &req);
    let (f, secret_key) = (form.clone(), state.config.secret_key.clone());
    let written = crate::web::write(&state, move |conn| {
        let input = SecurityInput {
            two_factor: &f.two_factor,
            sso_issuer: &f.sso_issuer,
            sso_client_id: &f.sso_client_id,
            sso_client_secret: Some(f.sso_client_secret.as_str()),
            sso_label: &f.sso_label,
            sso_create_domains: &f.sso_create_domains,
            sso_only: f.sso_only.is_some(),
            environment_provider,
        };
        security::update_settings(
            conn,
            &caller.by(),
            &caller.org,
            &input,
            &secret_key,
            caller.now,
        )
    })
    .await?;
    match written {
        Ok(()) => Ok(crate::web::redirect("/settings/security?saved=1")),
        Err(fields) => {
            form.sso_client_secret.clear();
            let mut page = page(&current, &state, Some(form));
            page.errors = fields.messages(current.tr);
            html_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}
