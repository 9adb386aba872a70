//! Requests: a question asked of one person in a note, open until answered
//! (by a note of theirs), declined (with a reason) or withdrawn. A request
//! changes state only from open (`close` updates `WHERE state = 'open'`),
//! so two answers racing close it once. Lists read only requests of
//! conversations the reader can see.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{conversations, messages, requests, users};
use crate::models::conversation::within_reach;
use crate::policy::ConversationScope;

crate::text_enum! {
    /// Where a request stands (`requests.state`).
    pub enum State {
        Open = "open",
        Answered = "answered",
        Declined = "declined",
        Withdrawn = "withdrawn",
    }
}

#[derive(Queryable, Clone, Debug)]
pub struct Request {
    pub id: i64,
    pub conversation_id: i64,
    pub question_message_id: i64,
    pub asked_by: Option<i64>,
    pub asked_of: i64,
    pub state: State,
    pub due_at: Option<NaiveDateTime>,
    pub created_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub answer_message_id: Option<i64>,
    pub decline_reason: Option<String>,
    pub reminded_at: Option<NaiveDateTime>,
}

impl Request {
    /// Open, and its due time has passed.
    pub fn overdue(&self, now: NaiveDateTime) -> bool {
        self.state == State::Open && self.due_at.is_some_and(|due| due <= now)
    }
}

/// A request to store.
pub struct NewRequest {
    pub conversation_id: i64,
    pub question_message_id: i64,
    pub asked_by: i64,
    pub asked_of: i64,
    pub due_at: Option<NaiveDateTime>,
}

pub fn insert(conn: &mut DbConn, new: &NewRequest, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(requests::table)
        .values((
            requests::conversation_id.eq(new.conversation_id),
            requests::question_message_id.eq(new.question_message_id),
            requests::asked_by.eq(new.asked_by),
            requests::asked_of.eq(new.asked_of),
            requests::state.eq(State::Open),
            requests::due_at.eq(new.due_at),
            requests::created_at.eq(now),
        ))
        .returning(requests::id)
        .get_result(conn)
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Request>> {
    requests::table.find(id).first(conn).optional()
}

/// The open requests asked of `user_id` in a conversation, oldest first.
pub fn open_of_in(
    conn: &mut DbConn,
    user_id: i64,
    conversation_id: i64,
) -> QueryResult<Vec<Request>> {
    requests::table
        .filter(requests::asked_of.eq(user_id))
        .filter(requests::conversation_id.eq(conversation_id))
        .filter(requests::state.eq(State::Open))
        .order(requests::id)
        .load(conn)
}

/// How an open request ends.
pub enum Closing<'a> {
    Answered { message_id: i64 },
    Declined { reason: &'a str },
    Withdrawn,
}

/// Ends an open request; false when it was no longer open.
pub fn close(
    conn: &mut DbConn,
    id: i64,
    closing: &Closing,
    now: NaiveDateTime,
) -> QueryResult<bool> {
    let (state, answer, reason) = match closing {
        Closing::Answered { message_id } => (State::Answered, Some(*message_id), None),
        Closing::Declined { reason } => (State::Declined, None, Some(*reason)),
        Closing::Withdrawn => (State::Withdrawn, None, None),
    };
    let changed = diesel::update(
        requests::table
            .find(id)
            .filter(requests::state.eq(State::Open)),
    )
    .set((
        requests::state.eq(state),
        requests::closed_at.eq(now),
        requests::answer_message_id.eq(answer),
        requests::decline_reason.eq(reason),
    ))
    .execute(conn)?;
    Ok(changed == 1)
}

/// Points an answered request at another note as its answer.
pub fn repoint_answer(conn: &mut DbConn, id: i64, message_id: i64) -> QueryResult<()> {
    diesel::update(
        requests::table
            .find(id)
            .filter(requests::state.eq(State::Answered)),
    )
    .set(requests::answer_message_id.eq(message_id))
    .execute(conn)
    .map(|_| ())
}

/// Open requests past their due time whose person has not been reminded.
pub fn due_unreminded(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<Vec<Request>> {
    requests::table
        .filter(requests::state.eq(State::Open))
        .filter(requests::reminded_at.is_null())
        .filter(requests::due_at.le(now))
        .order(requests::id)
        .limit(500)
        .load(conn)
}

/// Records the reminder; false when another node sent it already.
pub fn mark_reminded(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<bool> {
    let changed = diesel::update(
        requests::table
            .find(id)
            .filter(requests::reminded_at.is_null()),
    )
    .set(requests::reminded_at.eq(now))
    .execute(conn)?;
    Ok(changed == 1)
}

/// A request as pages and the API show it: with the names of the people,
/// the conversation's subject and the question's text.
#[derive(Clone, Debug)]
pub struct Shown {
    pub request: Request,
    pub asked_by_name: Option<String>,
    pub asked_of_name: String,
    pub subject: String,
    pub question: String,
}

/// Which requests to list.
#[derive(Clone, Debug, Default)]
pub struct Which {
    pub id: Option<i64>,
    pub state: Option<State>,
    /// Open and past due at this time.
    pub overdue_at: Option<NaiveDateTime>,
    pub asked_of: Option<i64>,
    pub asked_by: Option<i64>,
    pub conversation_id: Option<i64>,
    /// Only ids below this one (the next page, newest first).
    pub before_id: Option<i64>,
}

/// Requests of conversations in `scope` that fit `which`, newest first.
pub fn list(
    conn: &mut DbConn,
    scope: &ConversationScope,
    which: &Which,
    limit: i64,
) -> QueryResult<Vec<Shown>> {
    let (by, of) = diesel::alias!(users as by, users as of);
    let mut query = requests::table
        .inner_join(conversations::table)
        .inner_join(messages::table.on(messages::id.eq(requests::question_message_id)))
        .inner_join(of.on(of.field(users::id).eq(requests::asked_of)))
        .left_join(by.on(requests::asked_by.eq(by.field(users::id).nullable())))
        .select((
            requests::all_columns,
            by.field(users::name).nullable(),
            of.field(users::name),
            conversations::subject,
            messages::body,
        ))
        .order(requests::id.desc())
        .limit(limit)
        .into_boxed();
    query = match scope {
        ConversationScope::All => query,
        ConversationScope::Limited(reach) => within_reach!(query, reach),
        ConversationScope::None => query.filter(requests::id.eq(-1)),
    };
    if let Some(id) = which.id {
        query = query.filter(requests::id.eq(id));
    }
    if let Some(state) = which.state {
        query = query.filter(requests::state.eq(state));
    }
    if let Some(now) = which.overdue_at {
        query = query
            .filter(requests::state.eq(State::Open))
            .filter(requests::due_at.le(now));
    }
    if let Some(id) = which.asked_of {
        query = query.filter(requests::asked_of.eq(id));
    }
    if let Some(id) = which.asked_by {
        query = query.filter(requests::asked_by.eq(id));
    }
    if let Some(id) = which.conversation_id {
        query = query.filter(requests::conversation_id.eq(id));
    }
    if let Some(id) = which.before_id {
        query = query.filter(requests::id.lt(id));
    }
    let rows: Vec<(Request, Option<String>, String, String, String)> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(request, asked_by_name, asked_of_name, subject, question)| Shown {
                request,
                asked_by_name,
                asked_of_name,
                subject,
                question,
            },
        )
        .collect())
}

/// One request, if its conversation is in `scope`.
pub fn find_visible(
    conn: &mut DbConn,
    scope: &ConversationScope,
    id: i64,
) -> QueryResult<Option<Shown>> {
    let which = Which {
        id: Some(id),
        ..Which::default()
    };
    Ok(list(conn, scope, &which, 1)?.pop())
}

/// How many requests asked of `user_id` are open, in conversations in
/// `scope` (the count of the "Asked of you" view).
pub fn open_count(conn: &mut DbConn, scope: &ConversationScope, user_id: i64) -> QueryResult<i64> {
    let query = requests::table
        .inner_join(conversations::table)
        .filter(requests::asked_of.eq(user_id))
        .filter(requests::state.eq(State::Open))
        .count()
        .into_boxed();
    let query = match scope {
        ConversationScope::All => query,
        ConversationScope::Limited(reach) => within_reach!(query, reach),
        ConversationScope::None => return Ok(0),
    };
    query.get_result(conn)
}

/// The answers' texts and authors, by message id.
pub fn answers(
    conn: &mut DbConn,
    ids: &[i64],
) -> QueryResult<std::collections::HashMap<i64, String>> {
    let rows: Vec<(i64, String)> = messages::table
        .filter(messages::id.eq_any(ids))
        .select((messages::id, messages::body))
        .load(conn)?;
    Ok(rows.into_iter().collect())
}

/// The notes `user_id` wrote in a conversation after the message
/// `after_id` (a question), newest first, at most 50 (what they may pick as
/// an answer): (id, body).
pub fn notes_after(
    conn: &mut DbConn,
    user_id: i64,
    conversation_id: i64,
    after_id: i64,
) -> QueryResult<Vec<(i64, String)>> {
    messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::author_user_id.eq(user_id))
        .filter(messages::kind.eq(crate::models::conversation::MessageKind::Note))
        .filter(messages::id.gt(after_id))
        .order(messages::id.desc())
        .limit(50)
        .select((messages::id, messages::body))
        .load(conn)
}

/// One time to answer, for the reports: who was asked, in which team's
/// conversation, the state, and seconds from asking to answer (answered).
#[derive(Clone, Debug)]
pub struct Asked {
    pub asked_by: Option<i64>,
    pub asked_of: i64,
    pub team_id: Option<i64>,
    pub state: State,
    pub seconds: Option<f64>,
}

/// Every request asked in `[from, to)`, optionally in one team.
pub fn asked_between(
    conn: &mut DbConn,
    from: NaiveDateTime,
    to: NaiveDateTime,
    team: Option<i64>,
) -> QueryResult<Vec<Asked>> {
    let mut query = requests::table
        .inner_join(conversations::table)
        .filter(requests::created_at.ge(from))
        .filter(requests::created_at.lt(to))
        .select((
            requests::asked_by,
            requests::asked_of,
            conversations::team_id,
            requests::state,
            requests::created_at,
            requests::closed_at,
        ))
        .into_boxed();
    if let Some(team) = team {
        query = query.filter(conversations::team_id.eq(team));
    }
    type Row = (
        Option<i64>,
        i64,
        Option<i64>,
        State,
        NaiveDateTime,
        Option<NaiveDateTime>,
    );
    let rows: Vec<Row> = query.load(conn)?;
    Ok(rows
        .into_iter()
        .map(
            |(asked_by, asked_of, team_id, state, created, closed)| Asked {
                asked_by,
                asked_of,
                team_id,
                state,
                seconds: closed
                    .filter(|_| state == State::Answered)
                    .map(|closed| (closed - created).num_seconds().max(0) as f64),
            },
        )
        .collect())
}

/// The conversations with a request that fits `wanted`.
pub fn conversations_with(
    conn: &mut DbConn,
    wanted: &crate::models::conversation::RequestFilter,
) -> QueryResult<Vec<i64>> {
    let mut query = requests::table
        .select(requests::conversation_id)
        .distinct()
        .into_boxed();
    if let Some(state) = wanted.state {
        query = query.filter(requests::state.eq(state));
    }
    if let Some(now) = wanted.overdue_at {
        query = query
            .filter(requests::state.eq(State::Open))
            .filter(requests::due_at.le(now));
    }
    if let Some(user) = wanted.asked_of {
        query = query.filter(requests::asked_of.eq(user));
    }
    query.load(conn)
}
