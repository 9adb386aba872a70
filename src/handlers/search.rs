//! `/search`: full text over subjects, messages and notes of the
//! conversations the reader may see, and over customers; filters; saved
//! searches; CSV export for those allowed (never collaborators).

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};
use askama::Template;
use chrono::{NaiveDate, TimeZone};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::models::conversation::{self, Filter, Reader, Row, Status, View};
use crate::models::customer;
use crate::pages::{Ctx, format_datetime, html_with_status};
use crate::policy::{self, Action, ConversationScope, Flag};
use crate::privacy::{mask_email, shown};
use crate::search::{self, SavedSearch};
use crate::state::AppState;
use crate::web::redirect;

/// Conversations per page of results.
const PAGE: usize = 50;
/// Rows in a CSV export (its first pages).
const EXPORT_LIMIT: usize = 1000;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct SearchQuery {
    pub q: String,
    pub status: String,
    pub assignee: String,
    pub team: String,
    pub tag: String,
    pub from: String,
    pub to: String,
    /// Conversations with a question: `any`, `open`, `overdue`,
    /// `answered`, `declined`, `withdrawn`.
    pub request: String,
    /// …asked of this user (an id, or `me`).
    pub asked: String,
    /// `newest` (default) or `relevance`.
    pub sort: String,
    /// Where this page starts (`next` of the previous one).
    pub after: String,
}

pub struct ResultRow {
    pub id: i64,
    pub subject: String,
    pub status_key: String,
    pub status: &'static str,
    pub customer: String,
    pub assignee: String,
    pub team: String,
    /// "5 min", "yesterday"…
    pub when: String,
    /// The exact time, shown on hover.
    pub exact: String,
    /// RFC 3339, for `<time datetime>`.
    pub iso: String,
}

pub struct CustomerHit {
    pub id: i64,
    pub name: String,
    pub email: String,
}

#[derive(Template)]
#[template(path = "pages/search.html")]
struct SearchPage {
    ctx: Ctx,
    query: SearchQuery,
    query_string: String,
    searched: bool,
    rows: Vec<ResultRow>,
    /// The link to the next page, when more may follow.
    more: Option<String>,
    customers: Vec<CustomerHit>,
    saved: Vec<SavedSearch>,
    pickers: std::sync::Arc<crate::kept::Pickers>,
    my_teams: Vec<crate::models::team::TeamChoice>,
    statuses: Vec<(&'static str, &'static str)>,
    /// The question filter's choices, and the people who may be asked.
    request_states: Vec<(&'static str, &'static str)>,
    people: Vec<(i64, String)>,
    can_export: bool,
    user_id: i64,
}

impl SearchPage {
    fn is(&self, value: &str, option: &str) -> bool {
        value == option
    }

    fn is_id(&self, value: &str, id: &i64) -> bool {
        value == id.to_string()
    }
}

/// Runs the search for this reader: a page of rows and where the next
/// starts; `None` when nothing was asked. With words, matches are walked
/// newest first (or ranked) and the filters applied to each batch; with
/// filters alone, the newest conversations that pass them.
async fn run(
    current: &CurrentUser,
    state: &AppState,
    query: &SearchQuery,
    limit: usize,
) -> AppResult<Option<search::Found<Row>>> {
    let (scope, _) = policy::conversation_scope(&current.actor);
    if scope == ConversationScope::None {
        return Err(AppError::Forbidden("no conversation access".into()));
    }
    let has_filters = [
        &query.status,
        &query.assignee,
        &query.team,
        &query.tag,
        &query.from,
        &query.to,
        &query.request,
        &query.asked,
    ]
    .iter()
    .any(|v| !v.trim().is_empty());
    if query.q.trim().is_empty() && !has_filters {
        return Ok(None);
    }
    let day = |text: &str| {
        NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d")
            .ok()
            .and_then(|d| d.and_hms_opt(0, 0, 0))
            .and_then(|local| current.tz.from_local_datetime(&local).earliest())
            .map(|at| at.naive_utc())
    };
    let filter = Filter {
        status: Status::parse(&query.status),
        assignee_id: query.assignee.parse().ok(),
        team_id: query.team.parse().ok(),
        tag: Some(query.tag.trim().to_string()).filter(|t| !t.is_empty()),
        created_from: day(&query.from),
        created_to: day(&query.to).map(|d| d + chrono::Duration::days(1)),
        request: request_filter(query, current.user.id, state.clock.now()),
        ..Filter::default()
    };
    let text = query.q.trim().to_string();
    let (order, after) = (
        search::Order::parse(&query.sort).unwrap_or_default(),
        query.after.parse().ok(),
    );
    let (user_id, team_ids) = (current.user.id, current.actor.team_ids.clone());
    let found = state
        .db(move |conn| {
            let reader = Reader {
                scope: &scope,
                user_id,
                team_ids: &team_ids,
            };
            if text.is_empty() {
                let rows =
                    conversation::list(conn, &reader, View::Search, &filter, limit as i64)?.0;
                return Ok(search::Found { rows, next: None });
            }
            Ok(search::conversations(
                conn,
                &text,
                &scope,
                order,
                after,
                limit,
                |conn, ids| conversation::rows_among(conn, &reader, &filter, ids),
                |row: &Row| row.id,
            )?)
        })
        .await?;
    Ok(Some(found))
}

/// The keys of the question filter, in the order the page offers them.
const REQUEST_STATES: [&str; 6] = [
    "any",
    "open",
    "overdue",
    "answered",
    "declined",
    "withdrawn",
];

/// The question filter as asked: a state (or overdue at `now`) and whom
/// they were asked of (`me` or an id); none when neither is set.
fn request_filter(
    query: &SearchQuery,
    me: i64,
    now: chrono::NaiveDateTime,
) -> Option<conversation::RequestFilter> {
    use crate::models::request::State;
    let asked_of = match query.asked.trim() {
        "me" => Some(me),
        other => other.parse().ok(),
    };
    let (state, overdue_at) = match query.request.trim() {
        "overdue" => (None, Some(now)),
        key => (State::parse(key), None),
    };
    let wanted = REQUEST_STATES.contains(&query.request.trim()) || asked_of.is_some();
    wanted.then_some(conversation::RequestFilter {
        state,
        overdue_at,
        asked_of,
    })
}

/// This search's query string from its first page (what "Save" keeps).
fn query_string(req: &HttpRequest) -> String {
    req.query_string()
        .split('&')
        .filter(|p| !p.is_empty() && !p.starts_with("after="))
        .collect::<Vec<_>>()
        .join("&")
}

/// This search's query string, starting after `next`.
fn with_after(req: &HttpRequest, next: i64) -> String {
    match query_string(req) {
        q if q.is_empty() => format!("after={next}"),
        q => format!("{q}&after={next}"),
    }
}

pub async fn page(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> AppResult<HttpResponse> {
    let query = query.into_inner();
    let found = run(&current, &state, &query, PAGE).await?;
    let more = found
        .as_ref()
        .and_then(|f| f.next)
        .map(|next| format!("/search?{}", with_after(&req, next)));
    let full =
        policy::sees_contact_details(&current.actor, current.org.mask_contacts_for_collaborators);
    let can_view_customers = policy::can(&current.actor, Action::Use(Flag::CustomersView)).allowed;
    let text = query.q.trim().to_string();
    let query_is_first_page = query.after.is_empty();
    let now = state.clock.now();
    let (user_id, team_ids) = (current.user.id, current.actor.team_ids.clone());
    let (pickers, version) = (state.pickers.clone(), current.org.directory_version);
    let (customers, saved, pickers, people) = state
        .db(move |conn| {
            let customers = if can_view_customers && !text.is_empty() && query_is_first_page {
                customer::list(conn, Some(&text), full, None, 20)?.0
            } else {
                Vec::new()
            };
            Ok((
                customers,
                search::saved_for(conn, user_id, &team_ids)?,
                pickers.get(conn, version)?,
                crate::models::people::mentionable_users(conn)?,
            ))
        })
        .await?;
    let t = current.tr;
    let my_teams = pickers
        .teams
        .iter()
        .filter(|team| current.actor.team_ids.contains(&team.id))
        .cloned()
        .collect();
    html_with_status(
        &SearchPage {
            ctx: Ctx::for_user(&current, "search"),
            query_string: query_string(&req),
            searched: found.is_some(),
            more,
            rows: found
                .map(|f| f.rows)
                .unwrap_or_default()
                .into_iter()
                .map(|r| ResultRow {
                    id: r.id,
                    status: t.get(&format!("status.{}", r.status)),
                    status_key: r.status.to_string(),
                    subject: r.subject,
                    customer: r.customer_name,
                    assignee: r.assignee_name.unwrap_or_default(),
                    team: r.team_name.unwrap_or_default(),
                    when: crate::pages::relative_time(
                        r.last_activity_at,
                        now,
                        current.tz,
                        current.tr,
                    ),
                    exact: format_datetime(r.last_activity_at, current.tz, current.tr),
                    iso: crate::pages::iso_utc(r.last_activity_at),
                })
                .collect(),
            customers: customers
                .into_iter()
                .map(|(c, _)| CustomerHit {
                    id: c.id,
                    email: shown(c.email.as_deref(), !full, mask_email),
                    name: c.name,
                })
                .collect(),
            saved,
            pickers,
            my_teams,
            statuses: Status::ALL
                .iter()
                .map(|s| (s.key(), t.get(&format!("status.{s}"))))
                .collect(),
            request_states: REQUEST_STATES
                .iter()
                .map(|&key| (key, t.get(&format!("search.request.{key}"))))
                .collect(),
            people: people.into_iter().map(|(id, name, _)| (id, name)).collect(),
            can_export: policy::can(&current.actor, Action::Use(Flag::ConversationsExport)).allowed,
            user_id: current.user.id,
            query,
        },
        StatusCode::OK,
    )
}

pub async fn export(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<SearchQuery>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::ConversationsExport))?;
    let rows = run(&current, &state, &query, EXPORT_LIMIT)
        .await?
        .map(|f| f.rows)
        .unwrap_or_default();
    let mut out = csv::Writer::from_writer(Vec::new());
    let csv_error = |e: csv::Error| AppError::Internal(format!("csv: {e}"));
    out.write_record([
        "id",
        "subject",
        "customer",
        "status",
        "priority",
        "assignee",
        "team",
        "last_activity_utc",
    ])
    .map_err(csv_error)?;
    for r in rows {
        let id = r.id.to_string();
        let when = r.last_activity_at.format("%Y-%m-%dT%H:%M:%SZ").to_string();
        let cells = [
            id.as_str(),
            &r.subject,
            &r.customer_name,
            r.status.key(),
            r.priority.key(),
            r.assignee_name.as_deref().unwrap_or(""),
            r.team_name.as_deref().unwrap_or(""),
            when.as_str(),
        ];
        let cells: Vec<_> = cells.iter().map(|c| crate::web::csv_cell(c)).collect();
        out.write_record(cells.iter().map(|c| c.as_ref()))
            .map_err(csv_error)?;
    }
    let body = out
        .into_inner()
        .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    Ok(crate::web::csv_download("conversations.csv", body))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct SaveForm {
    pub name: String,
    pub query: String,
    pub team: String,
}

pub async fn save(
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<SaveForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    let name = form.name.trim().to_string();
    if name.is_empty() || name.chars().count() > 80 {
        return Ok(redirect(&format!("/search?{}", form.query)));
    }
    // Shared only with a team the user belongs to.
    let team = form
        .team
        .parse::<i64>()
        .ok()
        .filter(|t| current.actor.team_ids.contains(t));
    let query = form.query.trim_start_matches('?').to_string();
    let (user_id, now) = (current.user.id, state.clock.now());
    let stored = query.clone();
    state
        .db(move |conn| Ok(search::save(conn, user_id, team, &name, &stored, now)?))
        .await?;
    Ok(redirect(&format!("/search?{query}")))
}

pub async fn delete(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (id, user_id) = (*id, current.user.id);
    let deleted = state
        .db(move |conn| Ok(search::delete(conn, id, user_id)?))
        .await?;
    if deleted == 0 {
        return Err(AppError::NotFound);
    }
    Ok(redirect("/search"))
}
