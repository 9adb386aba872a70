//! Agents open a conversation on behalf of a customer through the conversation service.

use super::*;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct NewForm {
    pub email: String,
    pub name: String,
    pub subject: String,
    pub message: String,
    pub team: String,
    pub assignee: String,
}

#[derive(Template)]
#[template(path = "pages/conversation_new.html")]
pub(super) struct NewPage {
    pub(super) ctx: Ctx,
    pub(super) form: NewForm,
    pub(super) errors: FieldErrors,
    pub(super) teams: Vec<Team>,
    pub(super) assignees: Vec<(i64, String)>,
}

impl NewPage {
    fn is_id(&self, value: &str, id: &i64) -> bool {
        value == id.to_string()
    }
}

pub(super) async fn new_page(
    current: &CurrentUser,
    state: &AppState,
    form: NewForm,
    errors: FieldErrors,
) -> AppResult<HttpResponse> {
    let (teams, assignees) = state
        .db(|conn| {
            Ok((
                Team::all(conn)?,
                crate::models::people::assignable_users(conn, None)?,
            ))
        })
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &NewPage {
            ctx: Ctx::for_user(current, "conversations"),
            form,
            errors,
            teams,
            assignees,
        },
        status,
    )
}

/// Agents open a conversation on behalf of a customer (a call, a chat, a
/// forwarded mail): the customer's words start the thread.
pub async fn new(current: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsReply))?;
    let form = NewForm {
        team: current
            .actor
            .team_ids
            .first()
            .map(|t| t.to_string())
            .unwrap_or_default(),
        ..NewForm::default()
    };
    new_page(&current, &state, form, FieldErrors::default()).await
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<NewForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let (who, f) = (current.caller(&state, &req), form.clone());
    let written = crate::web::write(&state, move |conn| {
        let input = conversations::NewConversation {
            customer_email: &f.email,
            customer_name: Some(&f.name),
            subject: &f.subject,
            message: &f.message,
            team_id: f.team.parse().ok(),
            assignee_id: f.assignee.parse().ok(),
            channel: conversation::Channel::Email,
        };
        conversations::open(conn, &who.ctx(), &who.actor, &input)
    })
    .await?;
    match written {
        Ok(id) => Ok(redirect(&format!("/conversations/{id}"))),
        Err(fields) => {
            let errors = fields
                .renamed(&[
                    ("customer_email", "email"),
                    ("team_id", "team"),
                    ("assignee_id", "assignee"),
                ])
                .messages(current.tr);
            new_page(&current, &state, form, errors).await
        }
    }
}
