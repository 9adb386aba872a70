//! The composer: replies and notes written through the message service, the page kept with everything typed when a write is refused; and who the @ list may suggest.

use super::*;

/// The composer's text and files; errors for the text, refused files and
/// broken uploads, so the page can come back with everything typed.
pub(super) fn read_composer(
    current: &CurrentUser,
    field: &'static str,
    submission: &Submission,
) -> FieldErrors {
    let body = submission.field("body");
    let t = current.tr;
    let mut errors = messages::Written::typed(&body, &[])
        .problems()
        .renamed(&[("body", field)])
        .messages(t);
    let files_field = if field == "reply" {
        "reply_files"
    } else {
        "note_files"
    };
    if submission.broken {
        errors.add(files_field, t.get("conversation.error.upload"));
    }
    if field == "note" && matches!(due_at(current, submission), Err(())) {
        errors.add("due_at", t.get("requests.error.due_unreadable"));
    }
    for name in &submission.too_large {
        errors.add(
            files_field,
            t.fmt(
                "conversation.error.file_too_large",
                &[
                    ("name", name),
                    ("mb", &(attachment::MAX_BYTES / (1024 * 1024)).to_string()),
                ],
            ),
        );
    }
    errors
}

/// The note composer's due time, typed in the reader's timezone: none when
/// empty, `Err` when it is no time.
fn due_at(current: &CurrentUser, submission: &Submission) -> Result<Option<NaiveDateTime>, ()> {
    let typed = submission.field("due_at");
    if typed.trim().is_empty() {
        return Ok(None);
    }
    NaiveDateTime::parse_from_str(typed.trim(), "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|local| current.tz.from_local_datetime(&local).earliest())
        .map(|at| Some(at.naive_utc()))
        .ok_or(())
}

/// Whom the note composer asks and which of the reader's questions it
/// answers: every open one unless the "This note answers" boxes were shown.
fn asking_and_answers(
    current: &CurrentUser,
    submission: &Submission,
) -> (messages::Asking, messages::Answers) {
    let asking = messages::Asking {
        mentioned: submission.field("ask") == "1",
        people: Vec::new(),
        due_at: due_at(current, submission).ok().flatten(),
    };
    let answers = if submission.field("answering") == "1" {
        messages::Answers::Only(
            submission
                .fields
                .iter()
                .filter(|(k, _)| k == "answers")
                .filter_map(|(_, v)| v.parse().ok())
                .collect(),
        )
    } else {
        messages::Answers::All
    };
    (asking, answers)
}

/// The note composer as typed, for the page that comes back.
fn note_drafts(submission: &Submission) -> Drafts {
    Drafts {
        note: submission.field("body"),
        ask_mentioned: submission.field("ask") == "1",
        ask_due: submission.field("due_at"),
        ..Drafts::default()
    }
}

pub async fn add_note(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsNote))?;
    let loaded = load(&current, &state, *id).await?;
    let submission = uploads::read(&req, payload).await;
    let added =
        match write_from_composer(&current, &state, &req, &loaded, submission, false).await? {
            Ok(added) => added,
            Err((errors, submission)) => {
                return render(&current, loaded, note_drafts(&submission), errors, None);
            }
        };
    let unseen = added
        .unseen
        .iter()
        .map(i64::to_string)
        .collect::<Vec<_>>()
        .join(",");
    let (id, message) = (loaded.conversation.id, added.message_id);
    // Back where the reader was: at the note just added.
    if unseen.is_empty() {
        Ok(redirect(&format!(
            "/conversations/{id}?notice=noted#message-{message}"
        )))
    } else {
        Ok(redirect(&format!(
            "/conversations/{id}?notice=noted&unseen={unseen}#message-{message}"
        )))
    }
}

pub async fn reply(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    req: HttpRequest,
    payload: web::Payload,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsReply))?;
    let loaded = load(&current, &state, *id).await?;
    let submission = uploads::read(&req, payload).await;
    // Someone else replied since this page was loaded: show it first, keep
    // what was typed, and let a second press send it.
    if let Ok(seen) = submission.field("seen_last").parse::<i64>() {
        let (me, conversation_id) = (current.user.id, loaded.conversation.id);
        let others = state
            .db(move |conn| {
                Ok(crate::models::presence::written_since(
                    conn,
                    conversation_id,
                    seen,
                    me,
                )?)
            })
            .await?;
        if !others.is_empty() {
            let warning = current.tr.fmt(
                "conversation.replied_meanwhile",
                &[("names", &others.join(", "))],
            );
            let mut page = render(
                &current,
                loaded,
                Drafts {
                    reply: submission.field("body"),
                    warning: Some(warning),
                    ..Drafts::default()
                },
                FieldErrors::default(),
                None,
            )?;
            *page.status_mut() = StatusCode::CONFLICT;
            return Ok(page);
        }
    }
    let notice = match submission.field("then").as_str() {
        "done" => "replied_done",
        "pending" => "replied_pending",
        _ => "replied",
    };
    match write_from_composer(&current, &state, &req, &loaded, submission, true).await? {
        Ok(added) => Ok(redirect(&format!(
            "/conversations/{}?notice={notice}#message-{}",
            loaded.conversation.id, added.message_id
        ))),
        Err((errors, submission)) => render(
            &current,
            loaded,
            Drafts {
                reply: submission.field("body"),
                ..Drafts::default()
            },
            errors,
            None,
        ),
    }
}

/// Writes the composer's reply or note through the message service; on a
/// refusal, the messages to show beside the composer and what was sent, so
/// the page comes back with everything typed.
pub(super) async fn write_from_composer(
    current: &CurrentUser,
    state: &AppState,
    req: &HttpRequest,
    loaded: &Loaded,
    submission: Submission,
    reply: bool,
) -> AppResult<Result<messages::Added, (FieldErrors, Submission)>> {
    let field = if reply { "reply" } else { "note" };
    let errors = read_composer(current, field, &submission);
    if !errors.is_empty() {
        return Ok(Err((errors, submission)));
    }
    let id = loaded.conversation.id;
    let who = current.caller(state, req);
    let then = Some(submission.field("then")).filter(|s| !s.is_empty());
    let (asking, answers) = asking_and_answers(current, &submission);
    let outcome = state
        .db(move |conn| {
            let (ctx, author) = (who.ctx(), who.author());
            let result = write_transaction(conn, |conn| {
                let body = submission.field("body");
                let files = submission.new_files();
                let written = messages::Written {
                    asking,
                    answers,
                    ..messages::Written::typed(body.trim(), &files)
                };
                if reply {
                    let added = messages::add_reply(conn, &ctx, &author, id, &written)?;
                    // "Send and mark done" / "Send and set pending": the
                    // status changes with the reply, or neither happens.
                    if let Some(status) = then.filter(|s| ["done", "pending"].contains(&s.as_str()))
                    {
                        let changes = crate::services::conversations::Changes {
                            status: Some(status),
                            ..Default::default()
                        };
                        crate::services::conversations::update_properties(
                            conn, &ctx, &author, id, &changes,
                        )?;
                    }
                    Ok(added)
                } else {
                    messages::add_note(conn, &ctx, &author, id, &written)
                }
            });
            Ok(match result {
                Ok(added) => Ok(added),
                Err(Refusal::Fields(fields)) => Err((fields, submission)),
                Err(other) => return Err(other.into()),
            })
        })
        .await?;
    Ok(outcome.map_err(|(fields, submission)| {
        (
            fields.renamed(&[("body", field)]).messages(current.tr),
            submission,
        )
    }))
}

/// People the note composer may suggest after "@": those who can see this
/// conversation (JSON, for the progressive-enhancement script).
pub async fn mentionable(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsNote))?;
    let loaded = load(&current, &state, *id).await?;
    let (org, placement, now) = (
        current.org.clone(),
        loaded.conversation.placement(),
        state.clock.now(),
    );
    let people = state
        .db(move |conn| {
            Ok(crate::models::people::who_can_see(
                conn, &org, placement, now,
            )?)
        })
        .await?;
    let full =
        policy::sees_contact_details(&current.actor, current.org.mask_contacts_for_collaborators);
    let body: Vec<serde_json::Value> = people
        .into_iter()
        .map(|(name, email)| serde_json::json!({ "name": name, "email": if full { email } else { String::new() } }))
        .collect();
    Ok(HttpResponse::Ok()
        .content_type("application/json")
        .insert_header((actix_web::http::header::CACHE_CONTROL, "no-store"))
        .body(serde_json::Value::Array(body).to_string()))
}
