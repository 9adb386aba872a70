//! Requests in the browser: the panel at the top of a conversation (open
//! questions first, the rest folded), the "Asked of you" cards with their
//! answer and decline forms, and the forms' handlers. Every change goes
//! through `services::requests`; a refused form comes back with what was
//! typed.

use std::collections::HashMap;

use super::*;
use crate::models::request::{self, State as RequestState, Which};
use crate::services::requests as requests_service;

/// Questions shown whole up to this many characters.
const QUESTION_CHARS: usize = 600;

/// What a conversation page reads about its requests.
#[derive(Default)]
pub(super) struct OnPage {
    pub(super) shown: Vec<request::Shown>,
    /// The answers' texts, by message id.
    pub(super) answers: HashMap<i64, String>,
    /// The reader's notes after the earliest question asked of them that
    /// is open or answered (to pick an answer from), newest first.
    pub(super) my_notes: Vec<(i64, String)>,
}

/// The conversation's requests, with what the reader needs to act on them.
pub(super) fn on_page(
    conn: &mut crate::db::DbConn,
    reader_id: i64,
    conversation_id: i64,
) -> diesel::QueryResult<OnPage> {
    let which = Which {
        conversation_id: Some(conversation_id),
        ..Which::default()
    };
    let shown = request::list(conn, &ConversationScope::All, &which, 200)?;
    let answer_ids: Vec<i64> = shown
        .iter()
        .filter_map(|s| s.request.answer_message_id)
        .collect();
    let answers = request::answers(conn, &answer_ids)?;
    let earliest = shown
        .iter()
        .filter(|s| s.request.asked_of == reader_id)
        .filter(|s| matches!(s.request.state, RequestState::Open | RequestState::Answered))
        .map(|s| s.request.question_message_id)
        .min();
    let my_notes = match earliest {
        Some(question) => request::notes_after(conn, reader_id, conversation_id, question)?,
        None => Vec::new(),
    };
    Ok(OnPage {
        shown,
        answers,
        my_notes,
    })
}

/// A request as a page shows it.
pub struct RequestLine {
    pub id: i64,
    pub conversation_id: i64,
    pub subject: String,
    /// `open`, `answered`, `declined`, `withdrawn`.
    pub state: &'static str,
    pub state_label: &'static str,
    /// "Alex asked Casey · 5 Dec 2026, 14:00"
    pub asked: String,
    /// "Wanted by …", "Overdue since …"
    pub due: Option<String>,
    pub overdue: bool,
    pub question: String,
    /// The answer's text, or the reason for declining.
    pub outcome: Option<String>,
    /// Asked of the reader and open: they may decline it (and answer).
    pub mine_open: bool,
    pub can_withdraw: bool,
    /// The reader's notes after the question that they may make its answer.
    pub picks: Vec<(i64, String)>,
    /// Its form was refused: why, and what was typed.
    pub error: Option<RequestError>,
}

/// A refused request form: which request, the message, what was typed
/// (a reason for declining, or an answer).
pub struct RequestError {
    pub id: i64,
    pub message: String,
    pub draft: String,
    pub reason: bool,
}

/// Puts a refused form's error on its request's line.
pub(super) fn attach(lines: &mut [RequestLine], error: Option<RequestError>) {
    if let Some(error) = error
        && let Some(line) = lines.iter_mut().find(|l| l.id == error.id)
    {
        line.error = Some(error);
    }
}

fn excerpt(text: &str, max: usize) -> String {
    let text = text.trim();
    match text.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &text[..at]),
        None => text.to_string(),
    }
}

pub(super) fn line(
    shown: &request::Shown,
    answers: &HashMap<i64, String>,
    my_notes: &[(i64, String)],
    current: &CurrentUser,
    now: NaiveDateTime,
) -> RequestLine {
    let t = current.tr;
    let r = &shown.request;
    let asker = shown.asked_by_name.clone().unwrap_or_default();
    let asked = t.fmt(
        "requests.asked",
        &[
            ("asker", asker.as_str()),
            ("asked", shown.asked_of_name.as_str()),
            ("when", &format_datetime(r.created_at, current.tz, t)),
        ],
    );
    let overdue = r.overdue(now);
    let due = r
        .due_at
        .filter(|_| r.state == RequestState::Open)
        .map(|due| {
            let key = if overdue {
                "requests.overdue"
            } else {
                "requests.due"
            };
            t.fmt(key, &[("due", &format_datetime(due, current.tz, t))])
        });
    let outcome = match r.state {
        RequestState::Answered => r
            .answer_message_id
            .and_then(|id| answers.get(&id))
            .map(|text| {
                t.fmt(
                    "requests.answered_line",
                    &[
                        ("name", shown.asked_of_name.as_str()),
                        ("answer", &excerpt(text, QUESTION_CHARS)),
                    ],
                )
            }),
        RequestState::Declined => r
            .decline_reason
            .as_deref()
            .map(|reason| t.fmt("requests.reason", &[("reason", reason)])),
        _ => None,
    };
    let mine = r.asked_of == current.user.id;
    let picks = if mine && matches!(r.state, RequestState::Open | RequestState::Answered) {
        my_notes
            .iter()
            .filter(|(id, _)| *id > r.question_message_id && Some(*id) != r.answer_message_id)
            .map(|(id, text)| (*id, excerpt(text, 80)))
            .collect()
    } else {
        Vec::new()
    };
    RequestLine {
        id: r.id,
        conversation_id: r.conversation_id,
        subject: shown.subject.clone(),
        state: r.state.key(),
        state_label: t.get(&format!("requests.state.{}", r.state.key())),
        asked,
        due,
        overdue,
        question: excerpt(&shown.question, QUESTION_CHARS),
        outcome,
        mine_open: mine && r.state == RequestState::Open,
        can_withdraw: r.state == RequestState::Open
            && policy::may_withdraw(&current.actor, r.asked_by),
        picks,
        error: None,
    }
}

/// How long an answered, declined or withdrawn question stays unfolded.
const RECENT_DAYS: i64 = 7;

/// The page's lines: open ones and those closed in the last week, shown;
/// older ones, folded (newest first in both).
pub(super) fn lines(
    on_page: &OnPage,
    current: &CurrentUser,
    now: NaiveDateTime,
) -> (Vec<RequestLine>, Vec<RequestLine>) {
    let recent = now - chrono::Duration::days(RECENT_DAYS);
    let (mut shown, earlier): (Vec<_>, Vec<_>) = on_page
        .shown
        .iter()
        .partition(|s| s.request.closed_at.is_none_or(|closed| closed >= recent));
    // Open ones first.
    shown.sort_by_key(|s| s.request.state != RequestState::Open);
    let line = |s: &&request::Shown| line(s, &on_page.answers, &on_page.my_notes, current, now);
    (
        shown.iter().map(line).collect(),
        earlier.iter().map(line).collect(),
    )
}

/// The reader's open requests here, for the composer's "This note
/// answers" boxes: (id, "Alex: question…").
pub(super) fn answering(on_page: &OnPage, current: &CurrentUser) -> Vec<(i64, String)> {
    on_page
        .shown
        .iter()
        .filter(|s| s.request.asked_of == current.user.id && s.request.state == RequestState::Open)
        .map(|s| {
            let asker = s.asked_by_name.clone().unwrap_or_default();
            (
                s.request.id,
                format!("{asker}: {}", excerpt(&s.question, 80)),
            )
        })
        .collect()
}

/// The open requests asked of the reader, for "Asked of you": overdue
/// first, then by due time, then oldest first.
pub(super) fn asked_of_reader(
    conn: &mut crate::db::DbConn,
    current_id: i64,
    scope: &ConversationScope,
) -> diesel::QueryResult<Vec<request::Shown>> {
    let which = Which {
        asked_of: Some(current_id),
        state: Some(RequestState::Open),
        ..Which::default()
    };
    let mut shown = request::list(conn, scope, &which, 200)?;
    shown.sort_by_key(|s| (s.request.due_at.is_none(), s.request.due_at, s.request.id));
    Ok(shown)
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct RequestForm {
    /// The answer's text (a new note).
    pub body: String,
    /// A note of theirs to make the answer instead.
    pub message_id: String,
    pub reason: String,
    /// `asked`: back to "Asked of you"; else the conversation.
    pub back: String,
}

/// What happened, and where to go back to.
fn back_to(form: &RequestForm, conversation_id: i64, notice: &str) -> HttpResponse {
    if form.back == "asked" {
        redirect(&format!("/conversations?view=asked&notice={notice}"))
    } else {
        redirect(&format!(
            "/conversations/{conversation_id}?notice={notice}#requests"
        ))
    }
}

/// The page the form came from again, with the refusal beside the form
/// and what was typed.
async fn refused(
    current: &CurrentUser,
    state: &AppState,
    session: &actix_session::Session,
    id: i64,
    form: RequestForm,
    message: String,
    reason: bool,
) -> AppResult<HttpResponse> {
    let draft = if reason {
        form.reason.clone()
    } else {
        form.body.clone()
    };
    let error = RequestError {
        id,
        message,
        draft,
        reason,
    };
    if form.back == "asked" {
        let query = super::ListQuery {
            view: "asked".into(),
            ..Default::default()
        };
        return super::list::render_list(current, state, query, session, Some(error)).await;
    }
    let conversation_id = state
        .db(move |conn| {
            request::find(conn, id)?
                .map(|r| r.conversation_id)
                .ok_or(AppError::NotFound)
        })
        .await?;
    // Not visible to the reader: not found, as the conversation is.
    let loaded = load(current, state, conversation_id).await?;
    let mut errors = FieldErrors::default();
    errors.add("request", error.message.clone());
    render(
        current,
        loaded,
        Drafts {
            request_error: Some(error),
            ..Drafts::default()
        },
        errors,
        None,
    )
}

/// The first problem's message, in the reader's language.
fn message_of(fields: &crate::services::Fields, current: &CurrentUser) -> String {
    fields
        .0
        .first()
        .map(|(_, problem)| problem.message(current.tr))
        .unwrap_or_default()
}

/// Runs one request form's write through the service in a transaction:
/// back where the form came from with `notice`, or the form again with the
/// refusal beside it (`reason`: what was typed was a reason for declining).
#[allow(clippy::too_many_arguments)]
async fn act<F>(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: actix_session::Session,
    id: i64,
    form: RequestForm,
    (notice, reason): (&str, bool),
    write: F,
) -> AppResult<HttpResponse>
where
    F: FnOnce(
            &mut crate::db::DbConn,
            &crate::services::Ctx,
            &messages::Author,
        ) -> Result<i64, Refusal>
        + Send
        + 'static,
{
    let who = current.caller(&state, &req);
    let outcome = state
        .db(move |conn| {
            Ok(write_transaction(conn, |conn| {
                write(conn, &who.ctx(), &who.author())
            }))
        })
        .await?;
    match outcome {
        Ok(conversation_id) => Ok(back_to(&form, conversation_id, notice)),
        Err(Refusal::Fields(fields)) => {
            let message = message_of(&fields, &current);
            refused(&current, &state, &session, id, form, message, reason).await
        }
        Err(other) => Err(other.into()),
    }
}

/// Answers a request: with a new note (`body`), or by making one of the
/// reader's notes the answer (`message_id`).
pub async fn answer_request(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: actix_session::Session,
    id: web::Path<i64>,
    form: web::Form<RequestForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (*id, form.into_inner());
    let (body, pick) = (
        form.body.clone(),
        form.message_id.trim().parse::<i64>().ok(),
    );
    act(
        req,
        current,
        state,
        session,
        id,
        form,
        ("answered", false),
        move |conn, ctx, author| match pick {
            Some(message_id) => requests_service::pick_answer(conn, ctx, author, id, message_id)
                .map(|r| r.conversation_id),
            None => {
                let written = messages::Written::typed(body.trim(), &[]);
                requests_service::answer(conn, ctx, author, id, &written)
                    .map(|added| added.conversation.id)
            }
        },
    )
    .await
}

/// Declines a request asked of the reader, with a reason.
pub async fn decline_request(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: actix_session::Session,
    id: web::Path<i64>,
    form: web::Form<RequestForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (*id, form.into_inner());
    let reason = form.reason.clone();
    act(
        req,
        current,
        state,
        session,
        id,
        form,
        ("declined", true),
        move |conn, ctx, author| {
            requests_service::decline(conn, ctx, author, id, &reason).map(|r| r.conversation_id)
        },
    )
    .await
}

/// Withdraws a request.
pub async fn withdraw_request(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    session: actix_session::Session,
    id: web::Path<i64>,
    form: web::Form<RequestForm>,
) -> AppResult<HttpResponse> {
    let (id, form) = (*id, form.into_inner());
    act(
        req,
        current,
        state,
        session,
        id,
        form,
        ("withdrawn", false),
        move |conn, ctx, author| {
            requests_service::withdraw(conn, ctx, author, id).map(|r| r.conversation_id)
        },
    )
    .await
}
