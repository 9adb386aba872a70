//! First run: name the organisation and create the owner. Gone (404) once an
//! owner exists.

use actix_session::Session;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::{Check, FieldErrors};
use crate::i18n::Lang;
use crate::models::org::{NewOrgSettings, OrgSettings};
use crate::models::role::Role;
use crate::models::user::{NewUser, User, normalize_email};
use crate::pages::{Ctx, html_with_status, timezone_names};
use crate::policy::{BuiltinRole, ConversationAccess, UserType};
use crate::state::AppState;
use actix_web::http::StatusCode;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SetupForm {
    pub org_name: String,
    pub default_language: String,
    pub timezone: String,
    pub name: String,
    pub email: String,
    pub password: String,
    pub password_confirm: String,
}

#[derive(Template)]
#[template(path = "pages/setup.html")]
struct SetupPage {
    ctx: Ctx,
    form: SetupForm,
    errors: FieldErrors,
    languages: [Lang; 3],
    timezones: Vec<&'static str>,
}

impl SetupPage {
    fn new(ctx: Ctx, form: SetupForm, errors: FieldErrors) -> Self {
        Self {
            ctx,
            form,
            errors,
            languages: Lang::ALL,
            timezones: timezone_names().collect(),
        }
    }
}

pub async fn show(req: HttpRequest, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    if state.owner_exists().await? {
        return Err(AppError::NotFound);
    }
    let ctx = Ctx::for_visitor(&req, "Confer".into());
    let form = SetupForm {
        default_language: ctx.lang().to_string(),
        timezone: "UTC".into(),
        ..SetupForm::default()
    };
    html_with_status(
        &SetupPage::new(ctx, form, FieldErrors::default()),
        StatusCode::OK,
    )
}

pub async fn submit(
    req: HttpRequest,
    session: Session,
    state: web::Data<AppState>,
    form: web::Form<SetupForm>,
) -> AppResult<HttpResponse> {
    if state.owner_exists().await? {
        return Err(AppError::NotFound);
    }
    let form = form.into_inner();
    let ctx = Ctx::for_visitor(&req, "Confer".into());
    let mut errors = FieldErrors::default();
    let mut check = Check {
        t: ctx.t,
        errors: &mut errors,
    };
    check.required("org_name", &form.org_name, 120);
    check.language("default_language", &form.default_language);
    check.timezone("timezone", &form.timezone);
    check.required("name", &form.name, 120);
    check.email("email", &form.email);
    check.new_password(
        "password",
        &form.password,
        "password_confirm",
        &form.password_confirm,
    );
    if !errors.is_empty() {
        let kept = SetupForm {
            password: String::new(),
            password_confirm: String::new(),
            ..form
        };
        return html_with_status(
            &SetupPage::new(ctx, kept, errors),
            StatusCode::UNPROCESSABLE_ENTITY,
        );
    }

    let hash = auth::hash_password(form.password.clone(), state.config.bcrypt_cost).await?;
    let now = state.clock.now();
    let f = form.clone();
    let created = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                // Two people finishing setup at once: only the first wins.
                if User::owner_exists(conn)? {
                    return Ok(None);
                }
                let lang = Lang::parse(&f.default_language).unwrap_or_default();
                let new_org = NewOrgSettings {
                    id: crate::models::org::ORG_ID,
                    name: f.org_name.trim(),
                    default_language: lang.code(),
                    timezone: f.timezone.trim(),
                    created_at: now,
                    updated_at: now,
                };
                if OrgSettings::find(conn)?.is_some() {
                    OrgSettings::update(
                        conn,
                        &crate::models::org::OrgChanges {
                            name: new_org.name,
                            default_language: new_org.default_language,
                            timezone: new_org.timezone,
                            collaborator_allowance: "unlimited",
                            collaborator_allowance_fixed: None,
                            mask_contacts_for_collaborators: false,
                            intake_team_id: None,
                            updated_at: now,
                        },
                    )?;
                } else {
                    OrgSettings::create(conn, &new_org)?;
                }
                let owner_role = Role::id_of(conn, BuiltinRole::Owner)?;
                let email = normalize_email(&f.email);
                let id = User::create(
                    conn,
                    &NewUser {
                        name: f.name.trim(),
                        email: &email,
                        password_hash: Some(&hash),
                        user_type: UserType::FullTime.key(),
                        role_id: Some(owner_role),
                        language: None,
                        timezone: None,
                        conversation_access: ConversationAccess::All.key(),
                        active: true,
                        access_starts: None,
                        access_ends: None,
                        session_version: 1,
                        created_at: now,
                        updated_at: now,
                    },
                )?;
                Ok::<_, AppError>(User::find(conn, id)?)
            })
        })
        .await?;
    let Some(owner) = created else {
        return Err(AppError::NotFound);
    };
    let lang = Lang::parse(&form.default_language).unwrap_or_default();
    auth::sign_in(&session, &owner, lang)?;
    tracing::info!(user_id = owner.id, "organisation set up");
    Ok(crate::web::redirect("/"))
}
