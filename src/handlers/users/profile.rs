//! A user's page: their details, the edit form and the effective permissions that explain each decision of the policy.

use super::*;
use crate::models::user::AccessState;

/// An explained decision for the effective-permissions table.
pub struct PermissionLine {
    pub label: &'static str,
    pub allowed: bool,
    pub why: String,
}

pub struct PermissionArea {
    pub label: &'static str,
    pub lines: Vec<PermissionLine>,
}

pub(super) fn effective_permissions(actor: &policy::Actor, t: Tr) -> (Vec<PermissionArea>, String) {
    let areas = policy::Area::ALL
        .iter()
        .map(|&area| PermissionArea {
            label: t.get(area.key()),
            lines: Flag::ALL
                .iter()
                .filter(|f| f.area() == area)
                .map(|&flag| {
                    let decision = policy::can(actor, Action::Use(flag));
                    PermissionLine {
                        label: t.get(flag.key()),
                        allowed: decision.allowed,
                        why: crate::pages::explain_rule(&decision.rule, t),
                    }
                })
                .collect(),
        })
        .collect();
    let (_, scope_rule) = policy::conversation_scope(actor);
    (areas, crate::pages::explain_scope(&scope_rule, t))
}

#[derive(Template)]
#[template(path = "pages/user_show.html")]
pub(super) struct ShowPage {
    pub(super) ctx: Ctx,
    pub(super) id: i64,
    pub(super) badge: Badge,
    pub(super) email: String,
    pub(super) status: String,
    pub(super) status_class: &'static str,
    pub(super) pending: bool,
    /// A pending seasonal user whose window has ended: they could never
    /// sign in (said to whoever invites them, and on every later view).
    pub(super) window_warning: Option<String>,
    pub(super) active: bool,
    pub(super) can_manage: bool,
    pub(super) manage_reason: &'static str,
    pub(super) form: UserForm,
    pub(super) errors: FieldErrors,
    pub(super) roles: Vec<RoleOption>,
    pub(super) teams: Vec<Team>,
    pub(super) languages: [Lang; 3],
    pub(super) timezones: Vec<TimezoneGroup>,
    pub(super) areas: Vec<PermissionArea>,
    /// How many of the permissions are allowed, of how many.
    pub(super) allowed_count: usize,
    pub(super) total_count: usize,
    pub(super) scope: String,
    pub(super) notice: Option<&'static str>,
    pub(super) last_active: String,
    pub(super) created: String,
    /// "On since …" or "Off".
    pub(super) two_factor: String,
    pub(super) two_factor_on: bool,
    pub(super) can_reset_two_factor: bool,
    /// "Can they see a conversation?", when one was asked about.
    pub(super) explained: Option<super::sight::Explained>,
}

pub(super) struct Loaded {
    pub(super) user: User,
    pub(super) managed: policy::ManagedUser,
    pub(super) team_ids: Vec<i64>,
    pub(super) delivery: Option<Delivery>,
    pub(super) roles: Vec<Role>,
    pub(super) teams: Vec<Team>,
    pub(super) actor: policy::Actor,
}

pub(super) async fn load(state: &AppState, id: i64) -> AppResult<Loaded> {
    state
        .db(move |conn| {
            let (user, managed) = people::load_managed(conn, id)?.ok_or(AppError::NotFound)?;
            let team_ids = Team::ids_of_user(conn, id)?;
            let delivery = invitation::deliveries(conn, &[id])?.remove(&id);
            let (_, role, actor) = User::load_actor(conn, id)?.ok_or(AppError::NotFound)?;
            drop(role);
            Ok(Loaded {
                user,
                managed,
                team_ids,
                delivery,
                roles: Role::all(conn)?,
                teams: Team::all(conn)?,
                actor,
            })
        })
        .await
}

pub(super) fn stored_form(user: &User, team_ids: &[i64]) -> UserForm {
    UserForm {
        user_type: user.user_type.key().to_string(),
        name: user.name.clone(),
        email: user.email.clone(),
        language: user.language.clone().unwrap_or_default(),
        timezone: user.timezone.clone().unwrap_or_default(),
        role_id: user.role_id.map(|r| r.to_string()).unwrap_or_default(),
        teams: team_ids.iter().map(i64::to_string).collect(),
        access: user.conversation_access.key().to_string(),
        starts: user
            .access_starts
            .map(|d| d.to_string())
            .unwrap_or_default(),
        ends: user.access_ends.map(|d| d.to_string()).unwrap_or_default(),
    }
}

pub(super) fn show_page(
    current: &CurrentUser,
    loaded: Loaded,
    form: Option<UserForm>,
    errors: FieldErrors,
    notice: Option<&'static str>,
    now: NaiveDateTime,
) -> ShowPage {
    let t = current.tr;
    let (can_manage, rule) = policy::can_manage_user(&current.actor, &loaded.managed);
    let (status, status_class) = status_of(
        t,
        &loaded.user,
        loaded.delivery.as_ref(),
        current.today(now),
        current.tz,
    );
    let (areas, scope) = effective_permissions(&loaded.actor, t);
    let user = &loaded.user;
    let form = form.unwrap_or_else(|| stored_form(user, &loaded.team_ids));
    let timezones = timezone_choices(&form.timezone, chrono::Utc::now().naive_utc());
    ShowPage {
        ctx: Ctx::for_user(current, "users"),
        id: user.id,
        badge: Badge::for_user(&user.name, Some(user.user_type)),
        email: user.email.clone(),
        status,
        status_class,
        pending: user.active && user.password_hash.is_none(),
        window_warning: match user.window_state(current.today(now)) {
            AccessState::WindowEnded(day) if user.active && user.password_hash.is_none() => {
                Some(t.fmt(
                    "users.warning.window_ended",
                    &[
                        ("date", &crate::pages::format_date(day, t)),
                        ("name", &user.name),
                    ],
                ))
            }
            _ => None,
        },
        active: user.active,
        can_manage,
        manage_reason: t.get(rule.key()),
        form,
        errors,
        roles: user_form::grantable_roles(&current.actor, &loaded.roles, t),
        teams: loaded.teams,
        languages: Lang::ALL,
        timezones,
        allowed_count: areas
            .iter()
            .flat_map(|a| &a.lines)
            .filter(|l| l.allowed)
            .count(),
        total_count: areas.iter().map(|a| a.lines.len()).sum(),
        areas,
        scope,
        notice,
        last_active: user
            .last_active_at
            .map(|at| format_datetime(at, current.tz, current.tr))
            .unwrap_or_else(|| t.get("users.never").to_string()),
        created: format_datetime(user.created_at, current.tz, current.tr),
        two_factor: match user.two_factor_since {
            Some(at) => t.fmt(
                "two_factor.on_since",
                &[("date", &crate::pages::format_local_date(at, current.tz, t))],
            ),
            None => t.get("two_factor.off").to_string(),
        },
        two_factor_on: user.two_factor_since.is_some(),
        can_reset_two_factor: policy::can_reset_two_factor(&current.actor, &loaded.managed).0,
        explained: None,
    }
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<super::sight::ShowQuery>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersView))?;
    let loaded = load(&state, *id).await?;
    let explained = match query.conversation.trim() {
        "" => None,
        asked => Some(super::sight::explain(&current, &state, &loaded, asked).await?),
    };
    let mut page = show_page(
        &current,
        loaded,
        None,
        FieldErrors::default(),
        notice_key(query.notice.as_deref()),
        state.clock.now(),
    );
    page.explained = explained;
    html_with_status(&page, StatusCode::OK)
}

pub(super) fn ensure_manage(current: &CurrentUser, target: &policy::ManagedUser) -> AppResult<()> {
    let (allowed, rule) = policy::can_manage_user(&current.actor, target);
    if allowed {
        Ok(())
    } else {
        Err(AppError::Forbidden(format!(
            "manage user {}: {rule:?}",
            target.user_id
        )))
    }
}

pub async fn update(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersManage))?;
    let loaded = load(&state, *id).await?;
    ensure_manage(&current, &loaded.managed)?;
    let form = UserForm::from_pairs(form_pairs(&body));
    let t = current.tr;
    let now = state.clock.now();
    let input = match user_form::validate(&form, &current.actor, &loaded.roles, &loaded.teams, t) {
        Ok(input) => input,
        Err(errors) => {
            let page = show_page(&current, loaded, Some(form), errors, None, now);
            return html_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY);
        }
    };
    let who = current.caller(&state, &req);
    let org = current.org.clone();
    let user_id = loaded.user.id;
    let result = state
        .db(move |conn| {
            let by = who.by();
            Ok(write_transaction(conn, |conn| {
                admin::update_user(conn, &by, &org, user_id, &input, now)
            }))
        })
        .await?;
    match result {
        Ok(()) => Ok(redirect(&format!("/settings/users/{user_id}?notice=saved"))),
        Err(Outcome::Refused(refusal)) => {
            let mut errors = FieldErrors::default();
            let field = match refusal {
                admin::Refusal::EmailTaken => "email",
                admin::Refusal::CollaboratorAllowance(..) => "user_type",
                _ => "role_id",
            };
            errors.add(field, refusal.message(t));
            let page = show_page(&current, loaded, Some(form), errors, None, now);
            html_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
        Err(other) => Err(other.into()),
    }
}
