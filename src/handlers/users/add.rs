//! Add user: the form, checked by the user form and written by the user service (the invitation goes out in the same transaction).

use super::*;

#[derive(Template)]
#[template(path = "pages/user_new.html")]
pub(super) struct NewPage {
    pub(super) ctx: Ctx,
    pub(super) form: UserForm,
    pub(super) errors: FieldErrors,
    pub(super) roles: Vec<RoleOption>,
    pub(super) teams: Vec<Team>,
    pub(super) languages: [Lang; 3],
    pub(super) timezones: Vec<TimezoneGroup>,
}

pub(super) async fn form_choices(state: &AppState) -> AppResult<(Vec<Role>, Vec<Team>)> {
    state
        .db(|conn| Ok((Role::all(conn)?, Team::all(conn)?)))
        .await
}

pub async fn new(current: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersManage))?;
    let (roles, teams) = form_choices(&state).await?;
    let default_role = roles
        .iter()
        .find(|r| r.builtin && r.key == "agent")
        .map(|r| r.id);
    let page = NewPage {
        ctx: Ctx::for_user(&current, "users"),
        form: UserForm::new_user(default_role),
        errors: FieldErrors::default(),
        roles: user_form::grantable_roles(&current.actor, &roles, current.tr),
        teams,
        languages: Lang::ALL,
        timezones: timezone_choices("", chrono::Utc::now().naive_utc()),
    };
    html_with_status(&page, StatusCode::OK)
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersManage))?;
    let form = UserForm::from_pairs(form_pairs(&body));
    let (roles, teams) = form_choices(&state).await?;
    let t = current.tr;
    let render_errors = |errors: FieldErrors, form: UserForm, roles: &[Role], teams: Vec<Team>| {
        html_with_status(
            &NewPage {
                ctx: Ctx::for_user(&current, "users"),
                timezones: timezone_choices(&form.timezone, chrono::Utc::now().naive_utc()),
                form,
                errors,
                roles: user_form::grantable_roles(&current.actor, roles, t),
                teams,
                languages: Lang::ALL,
            },
            StatusCode::UNPROCESSABLE_ENTITY,
        )
    };
    let input = match user_form::validate(&form, &current.actor, &roles, &teams, t) {
        Ok(input) => input,
        Err(mut errors) => {
            // The other problems are named with these, not after they are fixed.
            let email = form.email.trim().to_string();
            if errors.get("email").is_none() && !email.is_empty() {
                let taken = state
                    .db(move |conn| Ok(admin::email_refusal(conn, &email, None)?))
                    .await?;
                if let Some(refusal) = taken {
                    errors.add("email", refusal.message(t));
                }
            }
            return render_errors(errors, form, &roles, teams);
        }
    };
    let who = current.caller(&state, &req);
    let org = current.org.clone();
    let public_url = state.config.public_url.clone();
    let now = state.clock.now();
    let result = state
        .db(move |conn| {
            let by = who.by();
            Ok(write_transaction(conn, |conn| {
                admin::add_user(conn, &by, &org, &input, &public_url, now)
            }))
        })
        .await?;
    match result {
        Ok(id) => Ok(redirect(&format!("/settings/users/{id}?notice=invited"))),
        Err(Outcome::Refused(refusal)) => {
            let mut errors = FieldErrors::default();
            let field = match refusal {
                admin::Refusal::EmailTaken => "email",
                admin::Refusal::CollaboratorAllowance(..) => "user_type",
                admin::Refusal::UnknownTeam => "teams",
                _ => "role_id",
            };
            errors.add(field, refusal.message(t));
            render_errors(errors, form, &roles, teams)
        }
        Err(other) => Err(other.into()),
    }
}
