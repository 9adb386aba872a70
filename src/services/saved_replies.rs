//! Saved replies: created, changed and deleted as `policy` allows (one's
//! own; a team's by those who manage teams; only kinds one may use), every
//! problem of the form at once, each change audited; and the placeholders
//! filled in for the conversation a reply is inserted into.

use chrono::NaiveDateTime;
use serde_json::json;

use super::{By, Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::models::audit::{self, Event};
use crate::models::saved_reply::{self, SavedReply};
use crate::models::team::Team;
use crate::policy::{self, SnippetKind, SnippetOwner};

pub const MAX_TITLE_CHARS: usize = 120;
pub const MAX_BODY_CHARS: usize = 20_000;

/// The form (and the API's body): no team means a personal reply.
pub struct SnippetInput<'a> {
    pub title: &'a str,
    pub body: &'a str,
    pub kind: &'a str,
    pub team_id: Option<i64>,
}

fn checked(
    conn: &mut DbConn,
    by: &By,
    input: &SnippetInput,
) -> Result<(SnippetKind, SnippetOwner), Refusal> {
    let mut fields = Fields::default();
    fields.text("title", input.title, MAX_TITLE_CHARS);
    fields.text("body", input.body, MAX_BODY_CHARS);
    let kind = SnippetKind::parse(input.kind);
    if kind.is_none() {
        fields.add(
            "kind",
            Problem::Rule {
                key: "saved.error.kind_value",
                english: "must be reply or note",
            },
        );
    }
    if let Some(team) = input.team_id
        && Team::find(conn, team)?.is_none()
    {
        fields.add("team", Problem::UnknownTeam);
    }
    super::check(fields)?;
    let kind = kind.ok_or(Refusal::NotFound)?;
    let owner = match input.team_id {
        Some(team) => SnippetOwner::Team(team),
        None => SnippetOwner::Personal(by.actor.user_id),
    };
    policy::can_write_snippet(by.actor, owner, kind).map_err(Refusal::Rule)?;
    Ok((kind, owner))
}

fn owner_of(reply: &SavedReply) -> SnippetOwner {
    match reply.team_id {
        Some(team) => SnippetOwner::Team(team),
        None => SnippetOwner::Personal(reply.user_id.unwrap_or_default()),
    }
}

/// A saved reply `by` sees and may change.
fn writable(conn: &mut DbConn, by: &By, id: i64) -> Result<SavedReply, Refusal> {
    let scope = policy::snippet_scope(by.actor);
    let reply = saved_reply::find_visible(conn, &scope, id)?.ok_or(Refusal::NotFound)?;
    let kind = SnippetKind::parse(&reply.kind).ok_or(Refusal::NotFound)?;
    policy::can_write_snippet(by.actor, owner_of(&reply), kind).map_err(Refusal::Rule)?;
    Ok(reply)
}

fn record(
    conn: &mut DbConn,
    by: &By,
    action: &str,
    reply: &SavedReply,
    now: NaiveDateTime,
) -> Result<(), Refusal> {
    Ok(audit::record(
        conn,
        by.audit,
        Event {
            action,
            target_type: "saved_reply",
            target_id: Some(reply.id),
            target_label: &reply.title,
            before: None,
            after: Some(json!({ "kind": reply.kind, "team_id": reply.team_id })),
        },
        now,
    )?)
}

fn stored_fields<'a>(
    input: &'a SnippetInput,
    kind: SnippetKind,
    owner: SnippetOwner,
) -> saved_reply::Fields<'a> {
    let (user_id, team_id) = match owner {
        SnippetOwner::Personal(user) => (Some(user), None),
        SnippetOwner::Team(team) => (None, Some(team)),
    };
    saved_reply::Fields {
        title: input.title.trim(),
        body: input.body.trim_end(),
        kind: kind.key(),
        user_id,
        team_id,
    }
}

pub fn create(
    conn: &mut DbConn,
    by: &By,
    input: &SnippetInput,
    now: NaiveDateTime,
) -> Result<SavedReply, Refusal> {
    let (kind, owner) = checked(conn, by, input)?;
    let created = saved_reply::insert(
        conn,
        &stored_fields(input, kind, owner),
        by.actor.user_id,
        now,
    )?;
    record(conn, by, "saved_reply.created", &created, now)?;
    Ok(created)
}

pub fn update(
    conn: &mut DbConn,
    by: &By,
    id: i64,
    input: &SnippetInput,
    now: NaiveDateTime,
) -> Result<SavedReply, Refusal> {
    writable(conn, by, id)?;
    let (kind, owner) = checked(conn, by, input)?;
    saved_reply::update(conn, id, &stored_fields(input, kind, owner), now)?;
    let scope = policy::snippet_scope(by.actor);
    let updated = saved_reply::find_visible(conn, &scope, id)?.ok_or(Refusal::NotFound)?;
    record(conn, by, "saved_reply.updated", &updated, now)?;
    Ok(updated)
}

pub fn delete(conn: &mut DbConn, by: &By, id: i64, now: NaiveDateTime) -> Result<(), Refusal> {
    let reply = writable(conn, by, id)?;
    saved_reply::delete(conn, id)?;
    record(conn, by, "saved_reply.deleted", &reply, now)
}

/// What the placeholders stand for in one conversation.
pub struct Placeholders<'a> {
    pub customer_name: &'a str,
    pub agent_name: &'a str,
    pub conversation_id: i64,
}

/// The placeholders a saved reply may hold, for the help text.
pub const PLACEHOLDERS: &[&str] = &[
    "{customer.name}",
    "{customer.first_name}",
    "{agent.name}",
    "{agent.first_name}",
    "{conversation.id}",
];

/// `body` with its placeholders filled in; unknown ones stay as written.
pub fn fill(body: &str, p: &Placeholders) -> String {
    let first = |name: &str| name.split_whitespace().next().unwrap_or(name).to_string();
    body.replace("{customer.name}", p.customer_name)
        .replace("{customer.first_name}", &first(p.customer_name))
        .replace("{agent.name}", p.agent_name)
        .replace("{agent.first_name}", &first(p.agent_name))
        .replace("{conversation.id}", &p.conversation_id.to_string())
}
