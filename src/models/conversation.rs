//! Conversations as the workspace reads and changes them. Every read takes
//! the reader's `ConversationScope` and applies it in SQL, so a conversation
//! outside it never appears in a list, a count or by its id.

use std::collections::HashMap;

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::{
    conversation_reads, conversation_tags, conversations, customers, messages, tags, teams, users,
};
use crate::models::webhook;
use crate::policy::{ConversationScope, UserType};
use serde_json::json;

crate::text_enum! {
    /// Where a conversation stands (`conversations.status`).
    pub enum Status {
        Open = "open",
        Pending = "pending",
        /// Until `snoozed_until`, then open again.
        Snoozed = "snoozed",
        Done = "done",
    }
}

crate::text_enum! {
    /// `conversations.priority`.
    pub enum Priority {
        Low = "low",
        Normal = "normal",
        High = "high",
        Urgent = "urgent",
    }
}

crate::text_enum! {
    /// How a conversation came in (`conversations.channel`).
    pub enum Channel {
        Email = "email",
        WebForm = "web_form",
        Api = "api",
    }
}

crate::text_enum! {
    /// What a message of the timeline is (`messages.kind`).
    pub enum MessageKind {
        /// The customer's words.
        Customer = "customer",
        /// An agent's public answer, emailed to the customer.
        Reply = "reply",
        /// Private; never shown or sent to the customer.
        Note = "note",
    }
}

crate::text_enum! {
    /// Where a conversation was moved out of the workspace
    /// (`conversations.folder`; `None` is the workspace itself).
    pub enum Folder {
        /// Restorable until the worker purges it.
        Trash = "trash",
        /// Its customer is blocked; purged like the trash.
        Spam = "spam",
    }
}

/// How long a conversation stays in Trash or Spam before the worker
/// deletes it for good.
pub const PURGE_AFTER_DAYS: i64 = 30;

#[derive(Queryable, Clone, Debug)]
pub struct Conversation {
    pub id: i64,
    pub subject: String,
    pub customer_id: i64,
    pub status: Status,
    pub snoozed_until: Option<NaiveDateTime>,
    pub priority: Priority,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub channel: Channel,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub updated_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub last_activity_at: NaiveDateTime,
    pub closed_at: Option<NaiveDateTime>,
    pub folder: Option<Folder>,
    #[diesel(deserialize_as = crate::db::OptionalStoredTime)]
    pub moved_at: Option<NaiveDateTime>,
    /// The beginning of the newest message (kept by a trigger).
    pub preview: Option<String>,
    /// The customer's first message since our last reply, while unanswered
    /// (kept by a trigger).
    #[diesel(deserialize_as = crate::db::OptionalStoredTime)]
    pub waiting_since: Option<NaiveDateTime>,
    /// Bumped by triggers whenever its timeline would show something else
    /// (messages, files, delivery): the key of each node's rendered copy.
    pub timeline_version: i64,
}

impl Conversation {
    /// Where it sits, as far as who sees it is concerned.
    pub fn placement(&self) -> crate::policy::Placement {
        crate::policy::Placement {
            id: self.id,
            team_id: self.team_id,
            customer_id: self.customer_id,
        }
    }
}

/// The workspace views.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum View {
    /// Conversations with a question asked of the reader still open.
    Asked,
    Mine,
    Unassigned,
    Teams,
    All,
    Mentions,
    Done,
    Trash,
    Spam,
    /// Search results: every status (not a tab).
    Search,
}

impl View {
    pub const ALL: [View; 9] = [
        Self::Asked,
        Self::Mine,
        Self::Unassigned,
        Self::Teams,
        Self::All,
        Self::Mentions,
        Self::Done,
        Self::Trash,
        Self::Spam,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Asked => "asked",
            Self::Mine => "mine",
            Self::Unassigned => "unassigned",
            Self::Teams => "teams",
            Self::All => "all",
            Self::Mentions => "mentions",
            Self::Done => "done",
            Self::Trash => "trash",
            Self::Spam => "spam",
            Self::Search => "search",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|v| v.key() == key)
    }
}

#[derive(Clone, Debug, Default)]
pub struct Filter {
    /// Only these conversations (search results).
    pub ids: Option<Vec<i64>>,
    pub created_from: Option<NaiveDateTime>,
    pub created_to: Option<NaiveDateTime>,
    pub status: Option<Status>,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
    pub tag: Option<String>,
    /// Only conversations with questions like these.
    pub request: Option<RequestFilter>,
    /// The order of the list (search results keep their own).
    pub sort: Sort,
    /// Where the page starts: after the last row of the page before.
    pub after: Option<Cursor>,
}

/// Conversations with a question (request) that fits: in a state, or open
/// and past due at a time, and asked of someone.
#[derive(Clone, Debug, Default)]
pub struct RequestFilter {
    pub state: Option<crate::models::request::State>,
    pub overdue_at: Option<NaiveDateTime>,
    pub asked_of: Option<i64>,
}

/// The orders a view can be read in.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Sort {
    /// Newest activity first.
    #[default]
    Activity,
    /// The customers who have waited longest for an answer first, then
    /// the rest by newest activity.
    Waiting,
    /// Urgent, high, normal, low; newest activity first within each.
    Priority,
}

impl Sort {
    pub const ALL: [Sort; 3] = [Self::Activity, Self::Waiting, Self::Priority];

    pub fn key(self) -> &'static str {
        match self {
            Self::Activity => "activity",
            Self::Waiting => "waiting",
            Self::Priority => "priority",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|s| s.key() == key)
    }

    /// The order as a run of segments, each read on its own along an index
    /// (so a page costs the same however many conversations the view
    /// holds). Done, Trash and Spam have no one waiting: newest first.
    fn segments(self, view: View) -> &'static [Segment] {
        const URGENT_FIRST: [Segment; 4] = [
            Segment::Priority(Priority::Urgent),
            Segment::Priority(Priority::High),
            Segment::Priority(Priority::Normal),
            Segment::Priority(Priority::Low),
        ];
        match self {
            Self::Waiting if !matches!(view, View::Done | View::Trash | View::Spam) => {
                &[Segment::Waiting, Segment::NotWaiting]
            }
            Self::Priority => &URGENT_FIRST,
            _ => &[Segment::Everything],
        }
    }
}

/// A part of an order: the conversations it holds and how it reads them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Segment {
    /// All of them, newest activity first.
    Everything,
    /// A customer is waiting: the longest wait first.
    Waiting,
    /// No one is waiting, newest activity first.
    NotWaiting,
    /// One priority, newest activity first.
    Priority(Priority),
}

/// Keyset cursor: the segment of the order, and the key (last activity, or
/// waiting since) and id of the last row shown.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Cursor {
    pub segment: usize,
    pub at: NaiveDateTime,
    pub id: i64,
}

/// Who is looking: their scope, id and teams.
pub struct Reader<'a> {
    pub scope: &'a ConversationScope,
    pub user_id: i64,
    pub team_ids: &'a [i64],
}

impl Reader<'static> {
    /// Sees every conversation: for writes with no person behind them
    /// (mail intake, the worker).
    pub fn anyone() -> Self {
        Reader {
            scope: &ConversationScope::All,
            user_id: 0,
            team_ids: &[],
        }
    }
}

/// Filters a query over `conversations` to what a limited scope reaches:
/// their teams' conversations and, when something was granted, those
/// conversations and their customers' (the same statement as before when
/// nothing was).
macro_rules! within_reach {
    ($query:expr, $reach:expr) => {{
        use $crate::db::schema::conversations as c;
        let reach: &$crate::policy::Reach = $reach;
        let teams = c::team_id.eq_any(reach.teams.clone());
        if reach.conversations.is_empty() && reach.customers.is_empty() {
            $query.filter(teams)
        } else {
            $query.filter(
                teams
                    .or(c::id.eq_any(reach.conversations.clone()).nullable())
                    .or(c::customer_id.eq_any(reach.customers.clone()).nullable()),
            )
        }
    }};
}
pub(crate) use within_reach;

macro_rules! scoped {
    ($query:expr, $reader:expr) => {{
        let query = $query;
        match $reader.scope {
            ConversationScope::All => query,
            ConversationScope::Limited(reach) => within_reach!(query, reach),
            ConversationScope::None => query.filter(conversations::id.eq(-1)),
        }
    }};
}

macro_rules! in_view {
    ($query:expr, $view:expr, $reader:expr) => {{
        let query = match $view {
            View::Trash => $query.filter(conversations::folder.eq(Folder::Trash)),
            View::Spam => $query.filter(conversations::folder.eq(Folder::Spam)),
            _ => $query.filter(in_workspace()),
        };
        match $view {
            View::Mine => query
                .filter(conversations::assignee_id.eq($reader.user_id))
                .filter(not_done()),
            View::Unassigned => query
                .filter(conversations::assignee_id.is_null())
                .filter(not_done()),
            View::Teams => query
                .filter(conversations::team_id.eq_any($reader.team_ids.to_vec()))
                .filter(not_done()),
            View::All => query.filter(not_done()),
            View::Mentions => query.filter(
                conversations::id.eq_any(
                    crate::db::schema::notifications::table
                        .filter(crate::db::schema::notifications::user_id.eq($reader.user_id))
                        .filter(crate::db::schema::notifications::kind.eq("mention"))
                        .filter(crate::db::schema::notifications::conversation_id.is_not_null())
                        .select(
                            crate::db::schema::notifications::conversation_id.assume_not_null(),
                        ),
                ),
            ),
            View::Asked => query.filter(
                conversations::id.eq_any(
                    crate::db::schema::requests::table
                        .filter(crate::db::schema::requests::asked_of.eq($reader.user_id))
                        .filter(
                            crate::db::schema::requests::state
                                .eq(crate::models::request::State::Open),
                        )
                        .select(crate::db::schema::requests::conversation_id),
                ),
            ),
            View::Done => query.filter(conversations::status.eq(Status::Done)),
            View::Trash | View::Spam | View::Search => query,
        }
    }};
}

/// Not moved to Trash or Spam: every view but those two, and search.
fn in_workspace() -> crate::db::CachedSql {
    crate::db::cached_sql("conversations.folder IS NULL")
}

/// Not done, written literally (not as a bound parameter) so that the
/// partial indexes `WHERE status <> 'done'` serve the open views on both
/// databases, with or without planner statistics.
fn not_done() -> crate::db::CachedSql {
    crate::db::cached_sql("conversations.status <> 'done'")
}

/// How many conversations each view holds for this reader, exactly and in
/// constant time: the buckets per team, assignee and status come from
/// `conversation_counts` (kept by triggers on every write), the mentions
/// from the reader's own mention notifications.
pub fn counts(conn: &mut DbConn, reader: &Reader) -> QueryResult<HashMap<&'static str, i64>> {
    use crate::db::schema::{conversation_counts as cc, notifications};
    let buckets: Vec<(i64, i64, String, i64)> = crate::on_backend!(conn, |c| cc::table
        .filter(cc::n.gt(0))
        .select((cc::team_key, cc::assignee_key, cc::status, cc::n))
        .load(c))?;
    // Key 0 is "no team" / "unassigned"; real ids start at 1.
    let by_team = |team: i64| match reader.scope {
        ConversationScope::All => true,
        ConversationScope::Limited(reach) => reach.teams.contains(&team),
        ConversationScope::None => false,
    };
    let mut buckets: Vec<_> = buckets.into_iter().filter(|b| by_team(b.0)).collect();
    // Conversations granted outside their teams: a few, each its own bucket.
    if let ConversationScope::Limited(reach) = reader.scope
        && !(reach.conversations.is_empty() && reach.customers.is_empty())
    {
        // (team, assignee, status, folder) of each.
        type Placed = (Option<i64>, Option<i64>, Status, Option<Folder>);
        let granted: Vec<Placed> = crate::on_backend!(conn, |c| conversations::table
            .filter(
                conversations::id
                    .eq_any(reach.conversations.clone())
                    .or(conversations::customer_id.eq_any(reach.customers.clone())),
            )
            .select((
                conversations::team_id,
                conversations::assignee_id,
                conversations::status,
                conversations::folder,
            ))
            .load(c))?;
        buckets.extend(
            granted
                .into_iter()
                .filter(|(team, ..)| !team.is_some_and(|t| reach.teams.contains(&t)))
                .map(|(team, assignee, status, folder)| {
                    let status = folder.map(Folder::key).unwrap_or(status.key());
                    (
                        team.unwrap_or(0),
                        assignee.unwrap_or(0),
                        status.to_string(),
                        1,
                    )
                }),
        );
    }
    let mut counts: HashMap<&'static str, i64> = View::ALL.iter().map(|v| (v.key(), 0)).collect();
    let mut add = |view: View, n: i64| *counts.entry(view.key()).or_default() += n;
    // A bucket's status is the folder's name for moved conversations.
    for (team, assignee, status, n) in buckets {
        let elsewhere = [
            (Status::Done.key(), View::Done),
            (Folder::Trash.key(), View::Trash),
            (Folder::Spam.key(), View::Spam),
        ];
        if let Some((_, view)) = elsewhere.iter().find(|(key, _)| *key == status) {
            add(*view, n);
            continue;
        }
        add(View::All, n);
        if assignee == reader.user_id {
            add(View::Mine, n);
        }
        if assignee == 0 {
            add(View::Unassigned, n);
        }
        if reader.team_ids.contains(&team) {
            add(View::Teams, n);
        }
    }
    let mentions: i64 = scoped!(
        notifications::table
            .inner_join(conversations::table)
            .filter(notifications::user_id.eq(reader.user_id))
            .filter(notifications::kind.eq("mention"))
            .filter(in_workspace())
            .select(diesel::dsl::count(notifications::conversation_id).aggregate_distinct())
            .into_boxed(),
        reader
    )
    .get_result(conn)?;
    add(View::Mentions, mentions);
    add(
        View::Asked,
        crate::models::request::open_count(conn, reader.scope, reader.user_id)?,
    );
    Ok(counts)
}

/// A row of the conversation list.
#[derive(Queryable, Clone, Debug)]
pub struct Row {
    pub id: i64,
    pub subject: String,
    pub status: Status,
    pub priority: Priority,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub last_activity_at: NaiveDateTime,
    pub customer_name: String,
    pub assignee_name: Option<String>,
    pub team_name: Option<String>,
    /// The beginning of the newest message.
    pub preview: Option<String>,
    /// The customer's first message since our last reply, while unanswered.
    #[diesel(deserialize_as = crate::db::OptionalStoredTime)]
    pub waiting_since: Option<NaiveDateTime>,
    /// The last activity the reader saw when they last opened it.
    #[diesel(deserialize_as = crate::db::OptionalStoredTime)]
    pub seen_activity_at: Option<NaiveDateTime>,
}

impl Row {
    /// Something happened since the reader last opened it (or they never did).
    pub fn unread(&self) -> bool {
        self.seen_activity_at
            .is_none_or(|seen| seen < self.last_activity_at)
    }
}

/// A page of a view in the filter's order, and where the next page starts
/// if more follow.
pub fn list(
    conn: &mut DbConn,
    reader: &Reader,
    view: View,
    filter: &Filter,
    limit: i64,
) -> QueryResult<(Vec<Row>, Option<Cursor>)> {
    // Questions are few next to conversations: their conversations' ids
    // are read first.
    let with_requests = match &filter.request {
        Some(wanted) => Some(crate::models::request::conversations_with(conn, wanted)?),
        None => None,
    };
    let base = || {
        let mut query = conversations::table
            .inner_join(customers::table)
            .left_join(users::table.on(conversations::assignee_id.eq(users::id.nullable())))
            .left_join(teams::table)
            .left_join(
                conversation_reads::table.on(conversation_reads::conversation_id
                    .eq(conversations::id)
                    .and(conversation_reads::user_id.eq(reader.user_id))),
            )
            .select((
                conversations::id,
                conversations::subject,
                conversations::status,
                conversations::priority,
                conversations::last_activity_at,
                customers::name,
                users::name.nullable(),
                teams::name.nullable(),
                conversations::preview,
                conversations::waiting_since,
                conversation_reads::seen_activity_at.nullable(),
            ))
            .into_boxed();
        query = scoped!(query, reader);
        query = in_view!(query, view, reader);
        if let Some(ids) = &filter.ids {
            query = query.filter(conversations::id.eq_any(ids.clone()));
        }
        if let Some(from) = filter.created_from {
            query = query.filter(conversations::created_at.ge(from));
        }
        if let Some(to) = filter.created_to {
            query = query.filter(conversations::created_at.lt(to));
        }
        if let Some(status) = &filter.status {
            query = query.filter(conversations::status.eq(*status));
        }
        if let Some(assignee) = filter.assignee_id {
            query = query.filter(conversations::assignee_id.eq(assignee));
        }
        if let Some(team) = filter.team_id {
            query = query.filter(conversations::team_id.eq(team));
        }
        if let Some(tag) = &filter.tag {
            let tagged = conversation_tags::table
                .inner_join(tags::table)
                .filter(tags::name.eq(tag.to_lowercase()))
                .select(conversation_tags::conversation_id);
            query = query.filter(conversations::id.eq_any(tagged));
        }
        if let Some(ids) = &with_requests {
            query = query.filter(conversations::id.eq_any(ids.clone()));
        }
        query
    };
    if filter.ids.is_some() {
        // Rows for given ids (search results, which keep their own order):
        // looked up by id, never by walking an index of the order.
        let rows: Vec<Row> = base()
            .order(conversations::id.desc())
            .limit(limit)
            .load(conn)?;
        return Ok((rows, None));
    }
    let segments = filter.sort.segments(view);
    let start = filter.after.map_or(0, |c| c.segment);
    let mut rows: Vec<(usize, Row)> = Vec::new();
    for (index, segment) in segments.iter().enumerate().skip(start) {
        let after = filter
            .after
            .filter(|c| c.segment == index)
            .map(|c| (c.at, c.id));
        let mut query = base();
        query = match segment {
            Segment::Everything => query,
            Segment::Waiting => query.filter(conversations::waiting_since.is_not_null()),
            Segment::NotWaiting => query.filter(conversations::waiting_since.is_null()),
            Segment::Priority(p) => query.filter(conversations::priority.eq(*p)),
        };
        query = if *segment == Segment::Waiting {
            if let Some((at, id)) = after {
                query = query.filter(
                    conversations::waiting_since
                        .gt(at)
                        .or(conversations::waiting_since
                            .eq(at)
                            .and(conversations::id.gt(id))),
                );
            }
            query.order((conversations::waiting_since.asc(), conversations::id.asc()))
        } else {
            if let Some((at, id)) = after {
                query = query.filter(
                    conversations::last_activity_at
                        .lt(at)
                        .or(conversations::last_activity_at
                            .eq(at)
                            .and(conversations::id.lt(id))),
                );
            }
            query.order((
                conversations::last_activity_at.desc(),
                conversations::id.desc(),
            ))
        };
        let wanted = limit + 1 - rows.len() as i64;
        let found: Vec<Row> = query.limit(wanted).load(conn)?;
        rows.extend(found.into_iter().map(|row| (index, row)));
        if rows.len() as i64 > limit {
            break;
        }
    }
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    let next = rows.last().filter(|_| more).map(|(index, row)| Cursor {
        segment: *index,
        at: match segments[*index] {
            Segment::Waiting => row.waiting_since.unwrap_or(row.last_activity_at),
            _ => row.last_activity_at,
        },
        id: row.id,
    });
    Ok((rows.into_iter().map(|(_, row)| row).collect(), next))
}

/// The rows of those of `ids` this reader may see and `filter` lets
/// through, in no particular order (search candidates, which keep their own).
pub fn rows_among(
    conn: &mut DbConn,
    reader: &Reader,
    filter: &Filter,
    ids: &[i64],
) -> QueryResult<Vec<Row>> {
    let only = Filter {
        ids: Some(ids.to_vec()),
        ..filter.clone()
    };
    Ok(list(conn, reader, View::Search, &only, ids.len() as i64)?.0)
}

/// A conversation by id, whoever asks (mail intake; never for a page).
pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Conversation>> {
    crate::on_backend!(conn, |c| conversations::table.find(id).first(c).optional())
}

/// The conversation if this reader may see it.
pub fn find_visible(
    conn: &mut DbConn,
    reader: &Reader,
    id: i64,
) -> QueryResult<Option<Conversation>> {
    if *reader.scope == ConversationScope::All {
        return find(conn, id);
    }
    scoped!(
        conversations::table
            .filter(conversations::id.eq(id))
            .into_boxed(),
        reader
    )
    .first(conn)
    .optional()
}

/// Those of `ids` this reader may see.
pub fn visible_ids(conn: &mut DbConn, reader: &Reader, ids: &[i64]) -> QueryResult<Vec<i64>> {
    scoped!(
        conversations::table
            .filter(conversations::id.eq_any(ids.to_vec()))
            .select(conversations::id)
            .into_boxed(),
        reader
    )
    .load(conn)
}

crate::sql_per_backend!(
    /// The names of the selected conversation's tags as one SQL value,
    /// separated by U+001F (never in a tag), NULL for none.
    TagNamesOfConversation,
    diesel::sql_types::Nullable<diesel::sql_types::Text>,
    sqlite: "(SELECT group_concat(tags.name, char(31)) FROM conversation_tags \
             JOIN tags ON tags.id = conversation_tags.tag_id \
             WHERE conversation_tags.conversation_id = conversations.id)",
    postgres: "(SELECT string_agg(tags.name, chr(31)) FROM conversation_tags \
               JOIN tags ON tags.id = conversation_tags.tag_id \
               WHERE conversation_tags.conversation_id = conversations.id)",
);

crate::sql_per_backend!(
    /// Whether the selected conversation has files.
    ConversationHasFiles,
    diesel::sql_types::Bool,
    both: "EXISTS (SELECT 1 FROM attachments \
           WHERE attachments.conversation_id = conversations.id)",
);

crate::sql_per_backend!(
    /// Whether the selected conversation has tasks.
    ConversationHasTasks,
    diesel::sql_types::Bool,
    both: "EXISTS (SELECT 1 FROM tasks WHERE tasks.conversation_id = conversations.id)",
);

crate::sql_per_backend!(
    /// Whether grants in force open the selected conversation (its own or
    /// its customer's).
    ConversationHasGrants,
    diesel::sql_types::Bool,
    both: "EXISTS (SELECT 1 FROM access_grants g WHERE g.ended_at IS NULL \
           AND (g.conversation_id = conversations.id \
                OR g.customer_id = conversations.customer_id))",
);

crate::sql_per_backend!(
    /// Whether questions were asked in the selected conversation.
    ConversationHasRequests,
    diesel::sql_types::Bool,
    both: "EXISTS (SELECT 1 FROM requests r WHERE r.conversation_id = conversations.id)",
);

/// What the conversation page shows above its thread, read in one
/// statement.
pub struct PageHead {
    pub conversation: Conversation,
    /// The last activity the reader saw when they last opened it.
    pub seen_activity_at: Option<NaiveDateTime>,
    pub customer: crate::models::customer::Customer,
    /// In name order.
    pub tags: Vec<String>,
    /// Whether any files are attached, or tasks made for it (if not,
    /// there are none to read).
    pub has_files: bool,
    pub has_tasks: bool,
    /// Whether collaborators were granted it (if not, there are none to read).
    pub has_grants: bool,
    /// Whether questions were asked in it (if not, there are none to read).
    pub has_requests: bool,
}

/// The conversation if this reader may see it, with the last activity they
/// saw of it, its customer, its tags and whether it has files and tasks:
/// one statement, the page's first.
pub fn page_head(conn: &mut DbConn, reader: &Reader, id: i64) -> QueryResult<Option<PageHead>> {
    let user_id = reader.user_id;
    macro_rules! head {
        () => {
            conversations::table
                .inner_join(customers::table)
                .left_join(
                    conversation_reads::table.on(conversation_reads::conversation_id
                        .eq(conversations::id)
                        .and(conversation_reads::user_id.eq(user_id))),
                )
                .filter(conversations::id.eq(id))
                .select((
                    conversations::all_columns,
                    conversation_reads::seen_activity_at.nullable(),
                    customers::all_columns,
                    TagNamesOfConversation,
                    ConversationHasFiles,
                    ConversationHasTasks,
                    ConversationHasGrants,
                    ConversationHasRequests,
                ))
        };
    }
    type Found = (
        Conversation,
        Option<crate::db::StoredTime>,
        crate::models::customer::Customer,
        Option<String>,
        bool,
        bool,
        bool,
        bool,
    );
    // Those who see everything: a statement the cache keeps by its type.
    let found: Option<Found> = if *reader.scope == ConversationScope::All {
        crate::on_backend!(conn, |c| head!().first(c).optional())?
    } else {
        crate::on_backend!(conn, |c| scoped!(head!().into_boxed(), reader)
            .first(c)
            .optional())?
    };
    Ok(found.map(
        |(conversation, seen, customer, tags, has_files, has_tasks, has_grants, has_requests)| {
            // Sorted here: SQLite would sort them in a temporary b-tree.
            let mut tags: Vec<String> = tags
                .as_deref()
                .unwrap_or_default()
                .split('\u{1f}')
                .filter(|t| !t.is_empty())
                .map(str::to_string)
                .collect();
            tags.sort_unstable();
            PageHead {
                conversation,
                seen_activity_at: seen.map(NaiveDateTime::from),
                customer,
                tags,
                has_files,
                has_tasks,
                has_grants,
                has_requests,
            }
        },
    ))
}

/// Records that the user saw the conversation as of `activity`.
pub fn mark_seen(
    conn: &mut DbConn,
    user_id: i64,
    conversation_id: i64,
    activity: NaiveDateTime,
) -> QueryResult<()> {
    crate::on_backend!(conn, |c| diesel::insert_into(conversation_reads::table)
        .values((
            conversation_reads::user_id.eq(user_id),
            conversation_reads::conversation_id.eq(conversation_id),
            conversation_reads::seen_activity_at.eq(activity),
        ))
        .on_conflict((
            conversation_reads::user_id,
            conversation_reads::conversation_id
        ))
        .do_update()
        .set(conversation_reads::seen_activity_at.eq(activity))
        .execute(c))
    .map(|_| ())
}

/// One entry of the timeline.
#[derive(Queryable, Clone, Debug)]
pub struct MessageLine {
    pub id: i64,
    pub kind: MessageKind,
    pub body: String,
    /// `body` rendered and sanitized when written (`None`: not yet).
    pub body_html: Option<String>,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub created_at: NaiveDateTime,
    pub user_name: Option<String>,
    pub user_type: Option<UserType>,
    pub customer_name: Option<String>,
    pub email_message_id: Option<String>,
    /// For replies: the delivery state of their email, and its last error.
    pub delivery: Option<String>,
    pub delivery_error: Option<String>,
    /// `web` or `email`.
    pub source: String,
    pub quoted: Option<String>,
}

pub fn messages(conn: &mut DbConn, conversation_id: i64) -> QueryResult<Vec<MessageLine>> {
    crate::on_backend!(conn, |c| messages::table
        .left_join(users::table.on(messages::author_user_id.eq(users::id.nullable())))
        .left_join(customers::table.on(messages::author_customer_id.eq(customers::id.nullable())))
        .left_join(
            crate::db::schema::outbox::table
                .on(crate::db::schema::outbox::message_id.eq(messages::email_message_id)),
        )
        .filter(messages::conversation_id.eq(conversation_id))
        .select((
            messages::id,
            messages::kind,
            messages::body,
            messages::body_html,
            messages::created_at,
            users::name.nullable(),
            users::user_type.nullable(),
            customers::name.nullable(),
            messages::email_message_id,
            crate::db::schema::outbox::status.nullable(),
            crate::db::schema::outbox::last_error.nullable(),
            messages::source,
            messages::quoted,
        ))
        .order((messages::created_at, messages::id))
        .load(c))
}

/// In name order, sorted here: SQLite would sort them in a temporary
/// b-tree that costs more to set up than reading them.
pub fn tags_of(conn: &mut DbConn, conversation_id: i64) -> QueryResult<Vec<String>> {
    let mut names: Vec<String> = crate::on_backend!(conn, |c| conversation_tags::table
        .inner_join(tags::table)
        .filter(conversation_tags::conversation_id.eq(conversation_id))
        .select(tags::name)
        .load(c))?;
    names.sort_unstable();
    Ok(names)
}

/// Replaces the conversation's tags (names are lower-cased; new ones created).
pub fn set_tags(conn: &mut DbConn, conversation_id: i64, names: &[String]) -> QueryResult<()> {
    diesel::delete(
        conversation_tags::table.filter(conversation_tags::conversation_id.eq(conversation_id)),
    )
    .execute(conn)?;
    for name in names {
        let existing: Option<i64> = tags::table
            .filter(tags::name.eq(name))
            .select(tags::id)
            .first(conn)
            .optional()?;
        let tag_id = match existing {
            Some(id) => id,
            None => diesel::insert_into(tags::table)
                .values(tags::name.eq(name))
                .returning(tags::id)
                .get_result(conn)?,
        };
        diesel::insert_into(conversation_tags::table)
            .values((
                conversation_tags::conversation_id.eq(conversation_id),
                conversation_tags::tag_id.eq(tag_id),
            ))
            .execute(conn)?;
    }
    Ok(())
}

/// Normalizes typed tags ("Billing, vip") into a sorted, unique list.
pub fn parse_tags(text: &str) -> Vec<String> {
    let mut names: Vec<String> = text
        .split(',')
        .map(|t| t.trim().to_lowercase())
        .filter(|t| !t.is_empty())
        .collect();
    names.sort();
    names.dedup();
    names
}

pub struct Properties {
    pub status: Status,
    pub snoozed_until: Option<NaiveDateTime>,
    pub priority: Priority,
    pub assignee_id: Option<i64>,
    pub team_id: Option<i64>,
}

pub fn update_properties(
    conn: &mut DbConn,
    id: i64,
    p: &Properties,
    now: NaiveDateTime,
) -> QueryResult<()> {
    let closing = p.status == Status::Done;
    for (id, from) in assignees_of(conn, &[id])? {
        assignment_changed(conn, id, from, p.assignee_id, now)?;
    }
    diesel::update(conversations::table.find(id))
        .set((
            conversations::status.eq(&p.status),
            conversations::snoozed_until
                .eq(p.snoozed_until.filter(|_| p.status == Status::Snoozed)),
            conversations::priority.eq(&p.priority),
            conversations::assignee_id.eq(p.assignee_id),
            conversations::team_id.eq(p.team_id),
            conversations::updated_at.eq(now),
            conversations::closed_at.eq(closing.then_some(now)),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Records new activity (a reply or note) on the conversation.
pub fn touch(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(conversations::table.find(id))
        .set((
            conversations::last_activity_at.eq(now),
            conversations::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Snoozed conversations whose time has come open again.
pub fn reopen_snoozed(conn: &mut DbConn, now: NaiveDateTime) -> QueryResult<usize> {
    diesel::update(
        conversations::table
            .filter(conversations::status.eq(Status::Snoozed))
            .filter(conversations::snoozed_until.le(now)),
    )
    .set((
        conversations::status.eq(Status::Open),
        conversations::snoozed_until.eq(None::<NaiveDateTime>),
        conversations::last_activity_at.eq(now),
        conversations::updated_at.eq(now),
    ))
    .execute(conn)
}

/// A message to add to a conversation's timeline.
pub struct NewMessage<'a> {
    pub conversation_id: i64,
    /// `customer`, `reply` or `note`.
    pub kind: MessageKind,
    pub author_user_id: Option<i64>,
    pub author_customer_id: Option<i64>,
    pub body: &'a str,
    pub email_message_id: Option<&'a str>,
    /// `web` or `email`.
    pub source: &'a str,
    pub quoted: Option<&'a str>,
}

pub fn insert_message(conn: &mut DbConn, m: &NewMessage, now: NaiveDateTime) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(messages::table)
        .values((
            messages::conversation_id.eq(m.conversation_id),
            messages::kind.eq(m.kind),
            messages::author_user_id.eq(m.author_user_id),
            messages::author_customer_id.eq(m.author_customer_id),
            messages::body.eq(m.body),
            messages::body_html.eq(crate::markdown::for_storage(m.body)),
            messages::created_at.eq(now),
            messages::email_message_id.eq(m.email_message_id),
            messages::source.eq(m.source),
            messages::quoted.eq(m.quoted),
        ))
        .returning(messages::id)
        .get_result(conn)?;
    webhook::enqueue(
        conn,
        if m.kind == MessageKind::Note {
            "note.added"
        } else {
            "message.added"
        },
        json!({
            "conversation_id": m.conversation_id,
            "message_id": id,
            "kind": m.kind,
            "body": m.body,
            "author_user_id": m.author_user_id,
            "author_customer_id": m.author_customer_id,
            "source": m.source,
        }),
        now,
    )?;
    Ok(id)
}

/// The email Message-IDs of a conversation, oldest first (for References).
pub fn email_chain(conn: &mut DbConn, conversation_id: i64) -> QueryResult<Vec<String>> {
    messages::table
        .filter(messages::conversation_id.eq(conversation_id))
        .filter(messages::email_message_id.is_not_null())
        .filter(messages::kind.ne(MessageKind::Note))
        .select(messages::email_message_id.assume_not_null())
        .order((messages::created_at, messages::id))
        .load(conn)
}

/// Which conversation (if any) holds one of these email Message-IDs — ours
/// on replies we sent, or the customer's on mail we took in.
pub fn find_by_email_ids(conn: &mut DbConn, ids: &[String]) -> QueryResult<Option<i64>> {
    if ids.is_empty() {
        return Ok(None);
    }
    messages::table
        .filter(messages::email_message_id.eq_any(ids.to_vec()))
        .select(messages::conversation_id)
        .order(messages::id.desc())
        .first(conn)
        .optional()
}

/// Puts a conversation back in the open queue (a customer wrote again).
pub fn reopen(conn: &mut DbConn, id: i64, now: NaiveDateTime) -> QueryResult<()> {
    diesel::update(
        conversations::table
            .find(id)
            .filter(conversations::status.ne(Status::Open)),
    )
    .set((
        conversations::status.eq(Status::Open),
        conversations::snoozed_until.eq(None::<NaiveDateTime>),
        conversations::closed_at.eq(None::<NaiveDateTime>),
        conversations::updated_at.eq(now),
    ))
    .execute(conn)
    .map(|_| ())
}

/// Opens a conversation with the customer's first message (web form).
pub fn open_from_customer(
    conn: &mut DbConn,
    customer_id: i64,
    subject: &str,
    body: &str,
    channel: Channel,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let id = open_conversation(conn, customer_id, subject, channel, now)?;
    insert_message(
        conn,
        &NewMessage {
            conversation_id: id,
            kind: MessageKind::Customer,
            author_user_id: None,
            author_customer_id: Some(customer_id),
            body,
            email_message_id: None,
            source: "web",
            quoted: None,
        },
        now,
    )?;
    Ok(id)
}

/// Opens an empty conversation; the caller adds its first message.
pub fn open_conversation(
    conn: &mut DbConn,
    customer_id: i64,
    subject: &str,
    channel: Channel,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let id: i64 = diesel::insert_into(conversations::table)
        .values((
            conversations::subject.eq(subject),
            conversations::customer_id.eq(customer_id),
            conversations::status.eq(Status::Open),
            conversations::priority.eq(Priority::Normal),
            conversations::channel.eq(channel),
            conversations::created_at.eq(now),
            conversations::updated_at.eq(now),
            conversations::last_activity_at.eq(now),
        ))
        .returning(conversations::id)
        .get_result(conn)?;
    webhook::enqueue(
        conn,
        "conversation.created",
        json!({ "conversation_id": id, "subject": subject, "customer_id": customer_id, "channel": channel }),
        now,
    )?;
    Ok(id)
}

/// Tells webhooks that a conversation changed hands.
fn assignment_changed(
    conn: &mut DbConn,
    id: i64,
    from: Option<i64>,
    to: Option<i64>,
    now: NaiveDateTime,
) -> QueryResult<()> {
    if from == to {
        return Ok(());
    }
    webhook::enqueue(
        conn,
        "assignment.changed",
        json!({ "conversation_id": id, "from_user_id": from, "to_user_id": to }),
        now,
    )
}

/// The current assignees of these conversations.
pub fn assignees_of(conn: &mut DbConn, ids: &[i64]) -> QueryResult<Vec<(i64, Option<i64>)>> {
    conversations::table
        .filter(conversations::id.eq_any(ids))
        .select((conversations::id, conversations::assignee_id))
        .load(conn)
}

/// What a bulk action does to each selected conversation.
pub enum Bulk {
    Assign(Option<i64>),
    Close,
    Tag(String),
}

/// Applies `action` to those of `ids` the reader may see; returns how many.
pub fn bulk(
    conn: &mut DbConn,
    reader: &Reader,
    ids: &[i64],
    action: &Bulk,
    now: NaiveDateTime,
) -> QueryResult<usize> {
    let visible: Vec<i64> = scoped!(
        conversations::table
            .filter(conversations::id.eq_any(ids.to_vec()))
            .into_boxed(),
        reader
    )
    .select(conversations::id)
    .load(conn)?;
    if visible.is_empty() {
        return Ok(0);
    }
    let target = conversations::table.filter(conversations::id.eq_any(visible.clone()));
    match action {
        Bulk::Assign(user) => {
            for (id, from) in assignees_of(conn, &visible)? {
                assignment_changed(conn, id, from, *user, now)?;
            }
            diesel::update(target)
                .set((
                    conversations::assignee_id.eq(*user),
                    conversations::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Bulk::Close => {
            diesel::update(target)
                .set((
                    conversations::status.eq(Status::Done),
                    conversations::snoozed_until.eq(None::<NaiveDateTime>),
                    conversations::closed_at.eq(now),
                    conversations::updated_at.eq(now),
                ))
                .execute(conn)?;
        }
        Bulk::Tag(name) => {
            for &id in &visible {
                let mut names = tags_of(conn, id)?;
                if !names.contains(name) {
                    names.push(name.clone());
                    set_tags(conn, id, &names)?;
                }
            }
        }
    }
    Ok(visible.len())
}

/// A conversation `move_to` moved, and the folder it left.
pub struct Moved {
    pub id: i64,
    pub subject: String,
    pub customer_id: i64,
    pub from: Option<Folder>,
}

/// Moves those of `ids` the reader may see and that are not there yet to
/// `folder` (`None`: back to the workspace, as they were).
pub fn move_to(
    conn: &mut DbConn,
    reader: &Reader,
    ids: &[i64],
    folder: Option<Folder>,
    now: NaiveDateTime,
) -> QueryResult<Vec<Moved>> {
    let found: Vec<(i64, String, i64, Option<Folder>)> = scoped!(
        conversations::table
            .filter(conversations::id.eq_any(ids.to_vec()))
            .into_boxed(),
        reader
    )
    .select((
        conversations::id,
        conversations::subject,
        conversations::customer_id,
        conversations::folder,
    ))
    .load(conn)?;
    let moved: Vec<Moved> = found
        .into_iter()
        .filter(|(.., from)| *from != folder)
        .map(|(id, subject, customer_id, from)| Moved {
            id,
            subject,
            customer_id,
            from,
        })
        .collect();
    if !moved.is_empty() {
        let ids: Vec<i64> = moved.iter().map(|m| m.id).collect();
        diesel::update(conversations::table.filter(conversations::id.eq_any(ids)))
            .set((
                conversations::folder.eq(folder),
                conversations::moved_at.eq(folder.map(|_| now)),
                conversations::updated_at.eq(now),
            ))
            .execute(conn)?;
    }
    Ok(moved)
}

/// Deletes for good what was moved to Trash or Spam before `cutoff`, with
/// its messages, attachments, tags and notifications; returns how many.
pub fn purge_moved_before(conn: &mut DbConn, cutoff: NaiveDateTime) -> QueryResult<usize> {
    diesel::delete(
        conversations::table
            .filter(conversations::folder.is_not_null())
            .filter(conversations::moved_at.lt(cutoff)),
    )
    .execute(conn)
}

/// Puts a new conversation in a team's queue and/or with an assignee.
pub fn route(
    conn: &mut DbConn,
    id: i64,
    team_id: Option<i64>,
    assignee_id: Option<i64>,
) -> QueryResult<()> {
    diesel::update(conversations::table.find(id))
        .set((
            conversations::team_id.eq(team_id),
            conversations::assignee_id.eq(assignee_id),
        ))
        .execute(conn)
        .map(|_| ())
}
