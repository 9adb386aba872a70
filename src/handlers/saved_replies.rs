//! Saved replies in the browser: the list with a form to add one, the edit
//! page, delete. Writes are `services::saved_replies`; the composer inserts
//! them (`conversations::page`).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::models::saved_reply;
use crate::models::team::Team;
use crate::pages::{Ctx, html_with_status};
use crate::policy::{self, Action, Flag, SnippetKind};
use crate::services::saved_replies::{self, PLACEHOLDERS, SnippetInput};
use crate::state::AppState;
use crate::web::redirect;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SnippetForm {
    pub title: String,
    pub body: String,
    pub kind: String,
    /// A team id, or empty for a personal reply.
    pub team: String,
}

impl SnippetForm {
    fn team_id(&self) -> Result<Option<i64>, ()> {
        match self.team.trim() {
            "" => Ok(None),
            id => id.parse().map(Some).map_err(|_| ()),
        }
    }
}

pub struct Row {
    pub id: i64,
    pub title: String,
    pub kind: &'static str,
    pub owner: String,
    pub preview: String,
    pub editable: bool,
}

#[derive(Template)]
#[template(path = "pages/saved_replies.html")]
struct ListPage {
    ctx: Ctx,
    rows: Vec<Row>,
    form: SnippetForm,
    errors: FieldErrors,
    kinds: Vec<(&'static str, &'static str)>,
    /// Teams a shared reply may be for (those who manage teams only).
    teams: Vec<Team>,
    placeholders: String,
    notice: Option<&'static str>,
    /// The reply being edited (the form then saves it).
    editing: Option<i64>,
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub notice: Option<String>,
}

fn kinds(current: &CurrentUser) -> Vec<(&'static str, &'static str)> {
    SnippetKind::ALL
        .into_iter()
        .filter(|&k| policy::can_use_snippet(&current.actor, k))
        .map(|k| (k.key(), current.tr.get(&format!("saved.kind.{}", k.key()))))
        .collect()
}

async fn page(
    current: &CurrentUser,
    state: &AppState,
    form: SnippetForm,
    editing: Option<i64>,
) -> AppResult<ListPage> {
    let kinds = kinds(current);
    if kinds.is_empty() {
        return Err(AppError::Forbidden("saved replies".into()));
    }
    let scope = policy::snippet_scope(&current.actor);
    let manages_teams = policy::can(&current.actor, Action::Use(Flag::TeamsManage)).allowed;
    let (listed, teams) = state
        .db(move |conn| {
            let teams = if manages_teams {
                Team::all(conn)?
            } else {
                Vec::new()
            };
            Ok((saved_reply::visible(conn, &scope)?, teams))
        })
        .await?;
    let t = current.tr;
    let rows = listed
        .into_iter()
        .map(|l| {
            let kind = SnippetKind::parse(&l.reply.kind).unwrap_or(SnippetKind::Note);
            let owner = match (&l.reply.team_id, &l.team_name) {
                (Some(_), Some(name)) => name.clone(),
                _ => t.get("saved.personal").to_string(),
            };
            Row {
                id: l.reply.id,
                editable: policy::can_write_snippet(
                    &current.actor,
                    match l.reply.team_id {
                        Some(team) => policy::SnippetOwner::Team(team),
                        None => policy::SnippetOwner::Personal(current.user.id),
                    },
                    kind,
                )
                .is_ok(),
                title: l.reply.title,
                kind: t.get(&format!("saved.kind.{}", kind.key())),
                owner,
                preview: l.reply.body.chars().take(140).collect(),
            }
        })
        .collect();
    let mut form = form;
    if form.kind.is_empty() {
        form.kind = kinds[0].0.to_string();
    }
    Ok(ListPage {
        ctx: Ctx::for_user(current, "saved_replies"),
        rows,
        form,
        errors: FieldErrors::default(),
        kinds,
        teams,
        placeholders: PLACEHOLDERS.join(" "),
        notice: None,
        editing,
    })
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    let mut page = page(&current, &state, SnippetForm::default(), None).await?;
    page.notice = match query.notice.as_deref() {
        Some("saved") => Some("saved.notice.saved"),
        Some("deleted") => Some("saved.notice.deleted"),
        _ => None,
    };
    html_with_status(&page, StatusCode::OK)
}

/// Saves the form as a new reply (`id` none) or over reply `id`.
async fn save(
    req: &HttpRequest,
    current: &CurrentUser,
    state: &AppState,
    form: SnippetForm,
    id: Option<i64>,
) -> AppResult<HttpResponse> {
    let caller = current.caller(state, req);
    let f = form.clone();
    let written = crate::web::write(state, move |conn| {
        let team_id = f.team_id().map_err(|()| {
            let mut fields = crate::services::Fields::default();
            fields.add("team", crate::services::Problem::UnknownTeam);
            crate::services::Refusal::Fields(fields)
        })?;
        let input = SnippetInput {
            title: &f.title,
            body: &f.body,
            kind: &f.kind,
            team_id,
        };
        match id {
            Some(id) => saved_replies::update(conn, &caller.by(), id, &input, caller.now),
            None => saved_replies::create(conn, &caller.by(), &input, caller.now),
        }
    })
    .await?;
    match written {
        Ok(_) => Ok(redirect("/saved-replies?notice=saved")),
        Err(fields) => {
            let mut page = page(current, state, form, id).await?;
            page.errors = fields.messages(current.tr);
            html_with_status(&page, StatusCode::UNPROCESSABLE_ENTITY)
        }
    }
}

pub async fn create(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<SnippetForm>,
) -> AppResult<HttpResponse> {
    save(&req, &current, &state, form.into_inner(), None).await
}

pub async fn edit(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (scope, id) = (policy::snippet_scope(&current.actor), *id);
    let reply = state
        .db(move |conn| Ok(saved_reply::find_visible(conn, &scope, id)?))
        .await?
        .ok_or(AppError::NotFound)?;
    let form = SnippetForm {
        title: reply.title,
        body: reply.body,
        kind: reply.kind,
        team: reply.team_id.map(|t| t.to_string()).unwrap_or_default(),
    };
    let page = page(&current, &state, form, Some(id)).await?;
    html_with_status(&page, StatusCode::OK)
}

pub async fn update(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<SnippetForm>,
) -> AppResult<HttpResponse> {
    save(&req, &current, &state, form.into_inner(), Some(*id)).await
}

pub async fn delete(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let caller = current.caller(&state, &req);
    let id = *id;
    crate::web::write(&state, move |conn| {
        saved_replies::delete(conn, &caller.by(), id, caller.now)
    })
    .await?
    .map_err(|_| AppError::NotFound)?;
    Ok(redirect("/saved-replies?notice=deleted"))
}
