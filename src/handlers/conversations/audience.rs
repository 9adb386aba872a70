//! "Who can see this": every active user who sees a conversation, grouped
//! by the rule that lets them (`policy::sees_conversation`, as the lists
//! apply it), collaborators marked; and the collaborators' grants on it,
//! given and revoked here by those who hold `collaborators.grant`.

use super::*;
use crate::models::grant::{self, Shown};
use crate::models::people::{self, Seer};
use crate::policy::SightRule;
use crate::services::grants::{self as grants_service, GrantInput, Until};

#[derive(Template)]
#[template(path = "pages/conversation_audience.html")]
struct AudiencePage {
    ctx: Ctx,
    id: i64,
    subject: String,
    customer_name: String,
    groups: Vec<AudienceGroup>,
    total: usize,
    /// Grants in force that open it: (grant id, sentence).
    grants: Vec<(i64, String)>,
    can_grant: bool,
    /// Whom access can be granted to: (id, "Name (email)").
    collaborators: Vec<(i64, String)>,
    form: GrantForm,
    invite: InviteForm,
    /// May invite someone new as a collaborator (add users too).
    can_invite: bool,
    errors: FieldErrors,
    notice: Option<&'static str>,
    /// The range the date field offers: today to 90 days on.
    today: String,
    latest: String,
}

/// People let in by one rule.
struct AudienceGroup {
    heading: String,
    why: String,
    people: Vec<(Seer, Option<String>)>,
}

/// The grant form as typed.
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct GrantForm {
    pub user_id: String,
    /// `conversation` or `customer`.
    pub reach: String,
    pub until: String,
}

/// The form inviting someone new, as typed (its fields named apart from
/// the grant form's).
#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct InviteForm {
    pub name: String,
    pub email: String,
    pub invite_reach: String,
    pub invite_until: String,
}

/// The page's query: a notice, or an email to invite (from the composer).
#[derive(Deserialize, Default)]
#[serde(default)]
pub struct AudienceQuery {
    pub notice: Option<String>,
    pub invite: String,
}

impl AudiencePage {
    fn is(&self, value: &str, option: &str) -> bool {
        value == option
    }
}

/// "Dana can see this until 15 Dec 2026, granted by Alex."
pub fn grant_line(shown: &Shown, current: &CurrentUser, t: crate::i18n::Tr) -> String {
    // The last day of access, a day of the organisation's (like seasonal
    // windows): the grant ends at the midnight after it, there.
    let last_day = crate::pages::format_local_date(
        shown.grant.expires_at - chrono::Duration::seconds(1),
        current.org.tz(),
        t,
    );
    let key = match shown.grant.customer_id {
        Some(_) => "grants.line_customer",
        None => "grants.line",
    };
    let by = shown.granted_by_name.clone().unwrap_or_default();
    t.fmt(
        key,
        &[("name", &shown.user_name), ("date", &last_day), ("by", &by)],
    )
}

pub async fn audience(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<AudienceQuery>,
) -> AppResult<HttpResponse> {
    let notice = match query.notice.as_deref() {
        Some("granted") => Some("grants.notice.granted"),
        Some("revoked") => Some("grants.notice.revoked"),
        Some("invited") => Some("grants.notice.invited"),
        _ => None,
    };
    let invite = InviteForm {
        email: query.invite.trim().to_string(),
        ..InviteForm::default()
    };
    let forms = (GrantForm::default(), invite);
    render(&current, &state, *id, forms, FieldErrors::default(), notice).await
}

async fn render(
    current: &CurrentUser,
    state: &AppState,
    id: i64,
    (form, invite): (GrantForm, InviteForm),
    errors: FieldErrors,
    notice: Option<&'static str>,
) -> AppResult<HttpResponse> {
    if !policy::may_see_audience(&current.actor) {
        return Err(AppError::Forbidden("who can see a conversation".into()));
    }
    let (scope, user_id, team_ids) = reader(current);
    let (org, now) = (current.org.clone(), state.clock.now());
    let can_grant = allowed(current, Flag::CollaboratorsGrant);
    let (conversation, team, customer_name, seers, shown, collaborators) = state
        .db(move |conn| {
            let reader = Reader {
                scope: &scope,
                user_id,
                team_ids: &team_ids,
            };
            // Not visible and not existing look the same: 404.
            let conversation =
                conversation::find_visible(conn, &reader, id)?.ok_or(AppError::NotFound)?;
            let team = match conversation.team_id {
                Some(team) => Team::find(conn, team)?.map(|t| t.name),
                None => None,
            };
            let customer_name =
                grant::target_label(conn, grant::Target::Customer(conversation.customer_id))?;
            let seers = people::audience(conn, &org, conversation.placement(), now)?;
            let shown = grant::in_force_for(conn, conversation.id, conversation.customer_id)?;
            let collaborators = if can_grant {
                grant::collaborators(conn)?
            } else {
                Vec::new()
            };
            Ok((
                conversation,
                team,
                customer_name,
                seers,
                shown,
                collaborators,
            ))
        })
        .await?;
    let t = current.tr;
    let team = team.unwrap_or_default();
    let total = seers.len();
    let mut groups: Vec<AudienceGroup> = Vec::new();
    for seer in seers {
        let (heading, why, note) = match &seer.rule {
            SightRule::AllConversations => (
                t.get("conversation.audience.all").to_string(),
                t.get("rule.scope.all").to_string(),
                None,
            ),
            SightRule::InTheirTeam { why, .. } => (
                t.fmt("conversation.audience.team", &[("team", &team)]),
                crate::pages::explain_scope(why, t),
                None,
            ),
            SightRule::Granted { .. } => (
                t.get("conversation.audience.granted").to_string(),
                t.get("conversation.audience.granted_why").to_string(),
                shown
                    .iter()
                    .find(|g| g.grant.user_id == seer.id)
                    .map(|g| grant_line(g, current, t)),
            ),
            // `audience` holds only those who see it.
            SightRule::OutsideTheirTeams { .. } | SightRule::NoViewPermission => continue,
        };
        match groups
            .iter_mut()
            .find(|g| g.heading == heading && g.why == why)
        {
            Some(group) => group.people.push((seer, note)),
            None => groups.push(AudienceGroup {
                heading,
                why,
                people: vec![(seer, note)],
            }),
        }
    }
    let today = current.org.today(now);
    let default_until = (today + chrono::Duration::days(grants_service::DEFAULT_DAYS)).to_string();
    let invite = InviteForm {
        invite_until: match invite.invite_until.is_empty() {
            true => default_until.clone(),
            false => invite.invite_until,
        },
        invite_reach: match invite.invite_reach.is_empty() {
            true => "conversation".into(),
            false => invite.invite_reach,
        },
        ..invite
    };
    let form = GrantForm {
        until: match form.until.is_empty() {
            true => default_until,
            false => form.until,
        },
        reach: match form.reach.is_empty() {
            true => "conversation".into(),
            false => form.reach,
        },
        ..form
    };
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let page = AudiencePage {
        ctx: Ctx::for_user(current, "conversations"),
        id,
        subject: conversation.subject,
        customer_name,
        groups,
        total,
        grants: shown
            .iter()
            .map(|g| (g.grant.id, grant_line(g, current, t)))
            .collect(),
        can_grant,
        collaborators: collaborators
            .into_iter()
            .map(|(id, name, email)| (id, format!("{name} ({email})")))
            .collect(),
        form,
        invite,
        can_invite: policy::may_invite_into_conversation(&current.actor),
        errors,
        notice,
        today: today.to_string(),
        latest: (today + chrono::Duration::days(grants_service::MAX_DAYS)).to_string(),
    };
    html_with_status(&page, status)
}

/// Grants a collaborator access to this conversation or its customer's.
pub async fn grant_access(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<GrantForm>,
) -> AppResult<HttpResponse> {
    let id = *id;
    let form = form.into_inner();
    let input = GrantInput {
        user_id: form.user_id.trim().parse().ok(),
        whole_customer: form.reach == "customer",
        until: Until::parse(&form.until),
    };
    let who = current.caller(&state, &req);
    let outcome = state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                let by = who.by();
                grants_service::grant(conn, &who.ctx(), &by, id, &input)
            }))
        })
        .await?;
    match outcome {
        Ok(_) => Ok(redirect(&format!(
            "/conversations/{id}/audience?notice=granted#grants"
        ))),
        Err(Refusal::Fields(fields)) => {
            let errors = fields.messages(current.tr);
            let forms = (form, InviteForm::default());
            render(&current, &state, id, forms, errors, None).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Invites someone new as a collaborator who sees this conversation (or
/// its customer's) and nothing else.
pub async fn invite_into(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<InviteForm>,
) -> AppResult<HttpResponse> {
    use crate::services::grants::{InviteInput, InviteRefusal};
    use crate::services::users::Outcome;
    let id = *id;
    let form = form.into_inner();
    let who = current.caller(&state, &req);
    let typed = form.clone();
    let outcome = state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                let input = InviteInput {
                    name: &typed.name,
                    email: &typed.email,
                    whole_customer: typed.invite_reach == "customer",
                    until: Until::parse(&typed.invite_until),
                };
                grants_service::invite_and_grant(conn, &who.ctx(), &who.by(), id, &input)
            }))
        })
        .await?;
    let t = current.tr;
    let errors = match outcome {
        Ok(_) => {
            return Ok(redirect(&format!(
                "/conversations/{id}/audience?notice=invited#grants"
            )));
        }
        Err(InviteRefusal::Grant(Refusal::Fields(fields))) => {
            fields.renamed(&[("until", "invite_until")]).messages(t)
        }
        Err(InviteRefusal::User(Outcome::Refused(refusal))) => {
            let mut errors = FieldErrors::default();
            errors.add("email", refusal.message(t));
            errors
        }
        Err(InviteRefusal::Grant(other)) => return Err(other.into()),
        Err(InviteRefusal::User(Outcome::Denied(denied))) => return Err(denied.into()),
        Err(InviteRefusal::User(Outcome::Unmanageable(rule))) => {
            return Err(AppError::Forbidden(rule.key().to_string()));
        }
        Err(InviteRefusal::User(Outcome::Failed(e))) => return Err(e.into()),
    };
    let forms = (GrantForm::default(), form);
    render(&current, &state, id, forms, errors, None).await
}

/// Ends a grant at once.
pub async fn revoke_access(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    path: web::Path<(i64, i64)>,
) -> AppResult<HttpResponse> {
    let (id, grant_id) = path.into_inner();
    let who = current.caller(&state, &req);
    state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                let by = who.by();
                grants_service::revoke(conn, &who.ctx(), &by, id, grant_id)
            }))
        })
        .await??;
    Ok(redirect(&format!(
        "/conversations/{id}/audience?notice=revoked#grants"
    )))
}
