//! The workspace views with their counts, and the bulk actions on a page of them; only conversations the reader can see are listed or touched.

use super::*;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ListQuery {
    pub view: String,
    pub status: String,
    pub assignee: String,
    pub team: String,
    pub tag: String,
    pub sort: String,
    pub after_seg: Option<usize>,
    pub after_at: String,
    pub after_id: Option<i64>,
    pub notice: String,
}

pub struct ViewTab {
    pub key: &'static str,
    pub label: &'static str,
    /// Exact, however many.
    pub count: i64,
    pub current: bool,
}

pub struct ListRow {
    pub id: i64,
    pub subject: String,
    pub status_key: String,
    pub status: &'static str,
    pub priority: &'static str,
    pub priority_key: &'static str,
    pub customer: String,
    pub assignee: String,
    pub team: String,
    /// "5 min", "yesterday"…
    pub when: String,
    /// The exact time, shown on hover.
    pub exact: String,
    /// RFC 3339, for `<time datetime>`.
    pub iso: String,
    /// The beginning of the newest message.
    pub preview: String,
    /// New activity since the reader last opened it.
    pub unread: bool,
    /// "Waiting 3 h" and the exact time, while the customer's message is
    /// unanswered and the conversation not done.
    pub waiting: Option<(String, String)>,
}

#[derive(Template)]
#[template(path = "pages/conversations.html")]
pub(super) struct ListPage {
    pub(super) ctx: Ctx,
    pub(super) tabs: Vec<ViewTab>,
    pub(super) view: &'static str,
    pub(super) query: ListQuery,
    pub(super) rows: Vec<ListRow>,
    pub(super) next: Option<String>,
    pub(super) pickers: std::sync::Arc<crate::kept::Pickers>,
    pub(super) statuses: Vec<(&'static str, &'static str)>,
    /// The orders to choose from, and the one shown.
    pub(super) sorts: Vec<(&'static str, &'static str)>,
    pub(super) sort: &'static str,
    /// Bulk actions are offered only to those who may update conversations
    /// or move them to Trash and Spam.
    pub(super) can_bulk: bool,
    pub(super) can_update: bool,
    pub(super) can_assign: bool,
    pub(super) can_move: bool,
    /// Trash or Spam: the only bulk action brings conversations back.
    pub(super) moved_view: bool,
    pub(super) saved: Vec<crate::search::SavedSearch>,
    /// "Asked of you": the open questions, as cards to answer or decline.
    pub(super) asked: Vec<super::requests::RequestLine>,
    pub(super) notice: Option<&'static str>,
}

impl ListPage {
    fn is(&self, value: &str, option: &str) -> bool {
        value == option
    }

    fn is_id(&self, value: &str, id: &i64) -> bool {
        value == id.to_string()
    }
}

pub(super) fn status_options(current: &CurrentUser) -> Vec<(&'static str, &'static str)> {
    Status::ALL
        .iter()
        .map(|s| (s.key(), current.tr.get(&format!("status.{s}"))))
        .collect()
}

/// The views this reader has: "All" for those who see everything, or more
/// than their teams' (a collaborator granted conversations); collaborators,
/// who are never assigned anything, have no "Mine" or "Unassigned"; Trash
/// and Spam for those who may move conversations there.
pub(super) fn views_for(current: &CurrentUser, scope: &ConversationScope) -> Vec<View> {
    let collaborator = current.actor.is_collaborator();
    let can_move = allowed(current, Flag::ConversationsArchive);
    View::ALL
        .into_iter()
        .filter(|v| *v != View::All || scope.beyond_teams())
        .filter(|v| !(collaborator && matches!(v, View::Mine | View::Unassigned)))
        .filter(|v| can_move || !matches!(v, View::Trash | View::Spam))
        .collect()
}

/// Where the inbox opens when no view is asked for and none was chosen
/// before in this session: the first of the reader's usual views that
/// holds something (questions asked of them first; then for collaborators
/// what they were mentioned in and their teams', for the others their
/// own and their teams'), else the first of them (collaborators land on
/// "Asked of you").
fn default_view(
    views: &[View],
    collaborator: bool,
    counts: &std::collections::HashMap<&str, i64>,
) -> View {
    if counts.get(View::Asked.key()).copied().unwrap_or(0) > 0 {
        return View::Asked;
    }
    let usual: &[View] = if collaborator {
        &[View::Asked, View::Mentions, View::Teams, View::All]
    } else {
        &[View::Mine, View::Teams, View::All]
    };
    let usual: Vec<View> = usual
        .iter()
        .copied()
        .filter(|v| views.contains(v))
        .collect();
    usual
        .iter()
        .copied()
        .find(|v| counts.get(v.key()).copied().unwrap_or(0) > 0)
        .or_else(|| usual.first().copied())
        .unwrap_or(View::Mentions)
}

/// The session keys holding the last view and order a reader chose: the
/// inbox opens with them again.
const SESSION_LAST_VIEW: &str = "inbox_view";
const SESSION_LAST_SORT: &str = "inbox_sort";

/// What the reader asked for, else what they chose before in this session
/// (remembering a new choice).
fn chosen<T: Copy + PartialEq>(
    session: &actix_session::Session,
    key: &str,
    asked: Option<T>,
    parse: impl Fn(&str) -> Option<T>,
    name: impl Fn(T) -> &'static str,
) -> Option<T> {
    let remembered = session
        .get::<String>(key)
        .ok()
        .flatten()
        .and_then(|k| parse(&k));
    if let Some(new) = asked.filter(|a| Some(*a) != remembered) {
        let _ = session.insert(key, name(new));
    }
    asked.or(remembered)
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
    session: actix_session::Session,
) -> AppResult<HttpResponse> {
    render_list(&current, &state, query.into_inner(), &session, None).await
}

/// The inbox at the view asked for (or remembered, or the reader's usual);
/// "Asked of you" lists the open questions as cards, `request_error`
/// beside the one whose form was refused.
pub(super) async fn render_list(
    current: &CurrentUser,
    state: &AppState,
    query: ListQuery,
    session: &actix_session::Session,
    request_error: Option<super::requests::RequestError>,
) -> AppResult<HttpResponse> {
    let (scope, user_id, team_ids) = reader(current);
    if scope == ConversationScope::None {
        return Err(AppError::Forbidden("no conversation access".into()));
    }
    let collaborator = current.actor.is_collaborator();
    let views = views_for(current, &scope);
    let asked = chosen(
        session,
        SESSION_LAST_VIEW,
        View::parse(&query.view).filter(|v| views.contains(v)),
        |key| View::parse(key).filter(|v| views.contains(v)),
        View::key,
    );
    let sort = chosen(
        session,
        SESSION_LAST_SORT,
        Sort::parse(&query.sort),
        Sort::parse,
        Sort::key,
    )
    .unwrap_or_default();
    let default_views = views.clone();
    let filter = Filter {
        status: Status::parse(&query.status),
        assignee_id: query.assignee.parse().ok(),
        team_id: query.team.parse().ok(),
        tag: Some(query.tag.trim().to_string()).filter(|t| !t.is_empty()),
        sort,
        after: NaiveDateTime::parse_from_str(&query.after_at, "%Y-%m-%dT%H:%M:%S%.f")
            .ok()
            .zip(query.after_id)
            .map(|(at, id)| conversation::Cursor {
                segment: query.after_seg.unwrap_or(0),
                at,
                id,
            }),
        ..Filter::default()
    };
    let (pickers, version) = (state.pickers.clone(), current.org.directory_version);
    let (view, counts, (rows, next), questions, pickers, saved) = state
        .db(move |conn| {
            let reader = Reader {
                scope: &scope,
                user_id,
                team_ids: &team_ids,
            };
            let counts = conversation::counts(conn, &reader)?;
            let view = asked.unwrap_or_else(|| default_view(&default_views, collaborator, &counts));
            let (listed, questions) = if view == View::Asked {
                (
                    (Vec::new(), None),
                    super::requests::asked_of_reader(conn, user_id, &scope)?,
                )
            } else {
                (
                    conversation::list(conn, &reader, view, &filter, PAGE_SIZE)?,
                    Vec::new(),
                )
            };
            Ok((
                view,
                counts,
                listed,
                questions,
                pickers.get(conn, version)?,
                crate::search::saved_for(conn, user_id, &team_ids)?,
            ))
        })
        .await?;
    let t = current.tr;
    let now = state.clock.now();
    let next = next.map(|cursor| {
        let mut link = format!(
            "/conversations?view={}&sort={}&after_seg={}&after_at={}&after_id={}",
            view.key(),
            sort.key(),
            cursor.segment,
            cursor.at.format("%Y-%m-%dT%H:%M:%S%.f"),
            cursor.id
        );
        for (key, value) in [
            ("status", &query.status),
            ("assignee", &query.assignee),
            ("team", &query.team),
            ("tag", &query.tag),
        ] {
            if !value.is_empty() {
                link.push_str(&format!("&{key}={}", url_encode(value)));
            }
        }
        link
    });
    let tabs = views
        .iter()
        .map(|v| ViewTab {
            key: v.key(),
            label: t.get(&format!("conversations.view.{}", v.key())),
            count: counts.get(v.key()).copied().unwrap_or(0),
            current: *v == view,
        })
        .collect();
    let rows = rows
        .into_iter()
        .map(|r| ListRow {
            unread: r.unread(),
            id: r.id,
            status: t.get(&format!("status.{}", r.status)),
            priority: t.get(&format!("priority.{}", r.priority)),
            priority_key: r.priority.key(),
            status_key: r.status.to_string(),
            subject: r.subject,
            customer: r.customer_name,
            assignee: r
                .assignee_name
                .unwrap_or_else(|| t.get("conversation.unassigned").to_string()),
            team: r.team_name.unwrap_or_default(),
            waiting: r
                .waiting_since
                .filter(|_| r.status != Status::Done)
                .map(|since| {
                    (
                        crate::pages::waiting_for(since, now, t),
                        format_datetime(since, current.tz, t),
                    )
                }),
            preview: r.preview.unwrap_or_default(),
            when: crate::pages::relative_time(r.last_activity_at, now, current.tz, current.tr),
            exact: format_datetime(r.last_activity_at, current.tz, current.tr),
            iso: crate::pages::iso_utc(r.last_activity_at),
        })
        .collect();
    let can_update = allowed(current, Flag::ConversationsUpdate);
    let can_move = allowed(current, Flag::ConversationsArchive);
    let status = if request_error.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    let mut asked: Vec<_> = questions
        .iter()
        .map(|q| super::requests::line(q, &Default::default(), &[], current, now))
        .collect();
    super::requests::attach(&mut asked, request_error);
    let notice = match query.notice.as_str() {
        "answered" => Some("requests.notice.answered"),
        "declined" => Some("requests.notice.declined"),
        "withdrawn" => Some("requests.notice.withdrawn"),
        _ => None,
    };
    html_with_status(
        &ListPage {
            ctx: Ctx::for_user(current, "conversations"),
            tabs,
            view: view.key(),
            statuses: status_options(current),
            sorts: Sort::ALL
                .iter()
                .map(|s| (s.key(), t.get(&format!("conversations.sort.{}", s.key()))))
                .collect(),
            sort: sort.key(),
            query,
            rows,
            next,
            pickers,
            can_bulk: can_update || can_move,
            can_update,
            can_assign: allowed(current, Flag::ConversationsAssign),
            can_move,
            moved_view: matches!(view, View::Trash | View::Spam),
            saved,
            asked,
            notice,
        },
        status,
    )
}

/// Bulk actions from the list: assign, close, tag (the update permission;
/// assigning also the assign permission), and move to Trash or Spam or back
/// (the archive permission). Only conversations the reader can see are
/// touched.
pub async fn bulk(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    body: web::Bytes,
) -> AppResult<HttpResponse> {
    if !allowed(&current, Flag::ConversationsUpdate) {
        policy::ensure(&current.actor, Action::Use(Flag::ConversationsArchive))?;
    }
    let pairs = crate::urlencoded::form_pairs(&body);
    let value = |key: &str| {
        pairs
            .iter()
            .find(|(k, _)| k == key)
            .map(|(_, v)| v.trim().to_string())
            .unwrap_or_default()
    };
    let ids: Vec<i64> = pairs
        .iter()
        .filter(|(k, _)| k == "ids")
        .filter_map(|(_, v)| v.parse().ok())
        .collect();
    let back = match value("view").as_str() {
        "" => "/conversations".to_string(),
        view => format!("/conversations?view={}", url_encode(view)),
    };
    /// A property change, or a move to Trash or Spam or back.
    enum Chosen {
        Change(conversation::Bulk),
        Move(Option<conversation::Folder>),
    }
    let action = match value("action").as_str() {
        "assign" => Chosen::Change(conversation::Bulk::Assign(value("assignee").parse().ok())),
        "close" => Chosen::Change(conversation::Bulk::Close),
        "tag" => match conversation::parse_tags(&value("tag")).into_iter().next() {
            Some(tag) => Chosen::Change(conversation::Bulk::Tag(tag)),
            None => return Ok(redirect(&back)),
        },
        other => match super::folders::destination(other) {
            Some(folder) => Chosen::Move(folder),
            None => return Ok(redirect(&back)),
        },
    };
    if ids.is_empty() {
        return Ok(redirect(&back));
    }
    let who = current.caller(&state, &req);
    state
        .db(move |conn| {
            write_transaction(conn, |conn| match &action {
                Chosen::Change(change) => {
                    conversations::bulk(conn, &who.ctx(), &who.actor, &ids, change)
                }
                Chosen::Move(folder) => {
                    conversations::move_to(conn, &who.ctx(), &who.by(), &ids, *folder)
                }
            })?;
            Ok(())
        })
        .await?;
    Ok(redirect(&back))
}
