//! Tasks: the same visibility (in SQL) and rules as `/tasks`.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, NaiveDate, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::idempotency::{self, Created};
use super::{ApiError, ApiResult, ApiUser, time};
use crate::db::DbConn;
use crate::models::conversation::{self, Reader};
use crate::models::task::{self, Task, TaskList, TaskReader};
use crate::policy::{self, Action, Flag};
use crate::services::tasks;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct TaskOut {
    pub id: i64,
    pub title: String,
    pub description: String,
    pub due_on: Option<NaiveDate>,
    /// `open` or `done`.
    pub status: String,
    pub assignee_id: i64,
    pub creator_id: Option<i64>,
    /// Only when the token's user can see that conversation.
    pub conversation_id: Option<i64>,
    pub customer_id: Option<i64>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub completed_at: Option<DateTime<Utc>>,
}

#[derive(Serialize, ToSchema)]
pub struct TaskPage {
    pub data: Vec<TaskOut>,
}

/// Tasks as the API shows them. An invisible conversation is not named on
/// a task (the conversations' visibility is one query for the whole list).
fn outputs(conn: &mut DbConn, p: &Parts, tasks: Vec<Task>) -> ApiResult<Vec<TaskOut>> {
    let linked: Vec<i64> = tasks.iter().filter_map(|t| t.conversation_id).collect();
    let visible = visible_conversations(conn, p, &linked)?;
    Ok(tasks
        .into_iter()
        .map(|t| shape(t, &visible, p.sees_customers))
        .collect())
}

fn out(conn: &mut DbConn, p: &Parts, t: Task) -> ApiResult<TaskOut> {
    outputs(conn, p, vec![t])?
        .pop()
        .ok_or_else(ApiError::not_found)
}

fn shape(t: Task, visible: &[i64], sees_customers: bool) -> TaskOut {
    TaskOut {
        id: t.id,
        title: t.title,
        description: t.description,
        due_on: t.due_on,
        status: t.status,
        assignee_id: t.assignee_id,
        creator_id: t.creator_id,
        conversation_id: t.conversation_id.filter(|id| visible.contains(id)),
        customer_id: t.customer_id.filter(|_| sees_customers),
        created_at: time(t.created_at),
        updated_at: time(t.updated_at),
        completed_at: t.completed_at.map(time),
    }
}

struct Parts {
    reader: TaskReader,
    scope: policy::ConversationScope,
    user_id: i64,
    team_ids: Vec<i64>,
    sees_customers: bool,
}

fn parts(api: &ApiUser) -> Parts {
    Parts {
        reader: TaskReader::for_actor(api.user.id, &api.actor),
        scope: policy::conversation_scope(&api.actor).0,
        user_id: api.user.id,
        team_ids: api.actor.team_ids.clone(),
        sees_customers: api.allowed(Action::Use(Flag::CustomersView)),
    }
}

fn visible_conversations(conn: &mut DbConn, p: &Parts, ids: &[i64]) -> ApiResult<Vec<i64>> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let reader = Reader {
        scope: &p.scope,
        user_id: p.user_id,
        team_ids: &p.team_ids,
    };
    Ok(conversation::visible_ids(conn, &reader, ids)?)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct TaskQuery {
    /// `mine` (open, assigned to me; the default), `created` (open, created
    /// by me for others) or `done`.
    #[param(inline, value_type = Option<super::values::TaskList>)]
    pub list: Option<String>,
}

#[utoipa::path(get, path = "/api/v1/tasks", tag = "tasks", params(TaskQuery),
    responses((status = 200, body = TaskPage)))]
pub async fn list(
    api: ApiUser,
    state: web::Data<AppState>,
    query: web::Query<TaskQuery>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::TasksView))?;
    let which = match query.list.as_deref().unwrap_or("mine") {
        "mine" => TaskList::Mine,
        "created" => TaskList::Created,
        "done" => TaskList::Done,
        _ => {
            return Err(ApiError::bad_request(
                "invalid_list",
                "`list` must be mine, created or done.",
            ));
        }
    };
    let p = parts(&api);
    let page = super::db(&state, move |conn| {
        let ids: Vec<i64> = task::list(conn, &p.reader, which, 500)?
            .into_iter()
            .map(|l| l.id)
            .collect();
        let tasks = task::find_many(conn, &ids)?;
        let data = outputs(conn, &p, tasks)?;
        Ok(TaskPage { data })
    })
    .await?;
    Ok(HttpResponse::Ok().json(page))
}

#[utoipa::path(get, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = i64, Path)), responses((status = 200, body = TaskOut)))]
pub async fn show(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::TasksView))?;
    let (p, id) = (parts(&api), *id);
    let found = super::db(&state, move |conn| {
        let t = task::find_visible(conn, &p.reader, id)?.ok_or_else(ApiError::not_found)?;
        out(conn, &p, t)
    })
    .await?;
    Ok(HttpResponse::Ok().json(found))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewTask {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub title: String,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    pub due_on: Option<NaiveDate>,
    /// Any active user, collaborators included.
    pub assignee_id: i64,
    pub conversation_id: Option<i64>,
    pub customer_id: Option<i64>,
}

#[utoipa::path(post, path = "/api/v1/tasks", tag = "tasks", request_body = NewTask,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]{0,253}[!-~])?$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, body = TaskOut, headers(("Location" = String)))))]
pub async fn create(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<NewTask>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::TasksCreate))?;
    let input = body.into_inner();
    let (p, w) = (parts(&api), api.caller(&state, &req));
    let request = serde_json::to_value(&input)?;
    idempotency::run(&state, &api, &req, &request, move |conn| {
        let task = tasks::TaskInput {
            title: &input.title,
            description: input.description.as_deref().unwrap_or(""),
            due_on: input.due_on,
            assignee_id: Some(input.assignee_id),
        };
        let link = tasks::Link {
            conversation_id: input.conversation_id,
            customer_id: input.customer_id,
        };
        let id = tasks::create(conn, &w.ctx(), &w.author(), &task, link)?;
        let created = task::find(conn, id)?.ok_or_else(ApiError::not_found)?;
        Ok(Created::new(
            out(conn, &p, created)?,
            format!("/api/v1/tasks/{id}"),
        ))
    })
    .await
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct TaskChanges {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub title: Option<String>,
    #[schema(max_length = 20000)]
    pub description: Option<String>,
    pub due_on: Option<NaiveDate>,
    pub assignee_id: Option<i64>,
    /// `open` or `done`. The assignee may close their own task; anything
    /// else needs the permission to create tasks.
    #[schema(value_type = Option<super::values::TaskStatus>)]
    pub status: Option<String>,
}

#[utoipa::path(patch, path = "/api/v1/tasks/{id}", tag = "tasks",
    params(("id" = i64, Path)), request_body = TaskChanges,
    responses((status = 200, body = TaskOut)))]
pub async fn update(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<TaskChanges>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::TasksView))?;
    let changes = body.into_inner();
    let edits = changes.title.is_some()
        || changes.description.is_some()
        || changes.due_on.is_some()
        || changes.assignee_id.is_some();
    let done = match changes.status.as_deref() {
        None => None,
        Some("open") => Some(false),
        Some("done") => Some(true),
        Some(_) => {
            return Err(ApiError::invalid(vec![(
                "status",
                "must be open or done".into(),
            )]));
        }
    };
    let (p, w, id) = (parts(&api), api.caller(&state, &req), *id);
    let result = super::db(&state, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            let t = task::find_visible(conn, &p.reader, id)?.ok_or_else(ApiError::not_found)?;
            if edits {
                let title = changes.title.clone().unwrap_or(t.title.clone());
                let description = changes.description.clone().unwrap_or(t.description.clone());
                let input = tasks::TaskInput {
                    title: &title,
                    description: &description,
                    due_on: changes.due_on.or(t.due_on),
                    assignee_id: Some(changes.assignee_id.unwrap_or(t.assignee_id)),
                };
                tasks::update(conn, &w.ctx(), &w.author(), id, &input)?;
            }
            if let Some(done) = done {
                tasks::set_done(conn, &w.ctx(), &w.actor, id, done)?;
            }
            let t = task::find(conn, id)?.ok_or_else(ApiError::not_found)?;
            out(conn, &p, t)
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(result))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NewComment {
    #[schema(
        min_length = 1,
        max_length = 20000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub body: String,
}

#[derive(Serialize, ToSchema)]
pub struct CommentOut {
    pub id: i64,
    pub task_id: i64,
    pub body: String,
    pub created_at: DateTime<Utc>,
}

/// A comment; the assignee, creator, earlier commenters and @mentioned people are told.
#[utoipa::path(post, path = "/api/v1/tasks/{id}/comments", tag = "tasks",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]{0,253}[!-~])?$", description = "Retries with the same key and body get the first response")),
    request_body = NewComment,
    responses((status = 201, body = CommentOut, headers(("Location" = String)))))]
pub async fn comment(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<NewComment>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::TasksComment))?;
    let input = body.into_inner();
    let (w, task_id) = (api.caller(&state, &req), *id);
    let request = serde_json::to_value(&input)?;
    idempotency::run(&state, &api, &req, &request, move |conn| {
        let id = tasks::comment(conn, &w.ctx(), &w.author(), task_id, &input.body)?;
        let out = CommentOut {
            id,
            task_id,
            body: input.body.trim().to_string(),
            created_at: time(w.now),
        };
        Ok(Created::new(out, format!("/api/v1/tasks/{task_id}")))
    })
    .await
}
