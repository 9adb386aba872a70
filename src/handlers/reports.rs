//! `/reports`: for roles with `reports.view` (never collaborators — they get
//! 403 on every report URL and export, and no navigation entry). A date
//! range and team filter; charts drawn on the server as inline SVG, each
//! with its table beside it; every table as CSV.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use chrono::{Duration, NaiveDate};
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::models::team::Team;
use crate::pages::{Ctx, html_with_status};
use crate::policy::Flag;
use crate::reports::{
    self, CollaboratorRow, Durations, People, PersonRow, Range, RequestRow, Requests, TeamRow,
};
use crate::state::AppState;

/// The longest range one report covers.
const MAX_DAYS: i64 = 366;

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct ReportQuery {
    pub from: String,
    pub to: String,
    pub team: String,
}

/// The range asked for (default: the last 30 days), or why it is wrong.
fn range(
    current: &CurrentUser,
    state: &AppState,
    query: &ReportQuery,
) -> Result<Range, FieldErrors> {
    let t = current.tr;
    let today = state.clock.now().date();
    let mut errors = FieldErrors::default();
    let mut day = |field: &'static str, text: &str, default: NaiveDate| match text.trim() {
        "" => default,
        text => NaiveDate::parse_from_str(text, "%Y-%m-%d").unwrap_or_else(|_| {
            errors.add(field, t.get("reports.error.date"));
            default
        }),
    };
    let to = day("to", &query.to, today);
    let from = day("from", &query.from, to - Duration::days(29));
    if errors.is_empty() && from > to {
        errors.add("from", t.get("reports.error.order"));
    }
    if errors.is_empty() && (to - from).num_days() >= MAX_DAYS {
        errors.add(
            "from",
            t.fmt("reports.error.span", &[("days", &MAX_DAYS.to_string())]),
        );
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(Range {
        from,
        to,
        team: query.team.parse().ok(),
    })
}

/// Everything the page shows.
struct Figures {
    per_day: Vec<(NaiveDate, i64, i64)>,
    first_response: Durations,
    resolution: Durations,
    backlog: Vec<(String, i64)>,
    people: People,
    teams: Vec<TeamRow>,
    requests: Requests,
}

async fn figures(state: &AppState, range: Range) -> AppResult<Figures> {
    state
        .db(move |conn| {
            Ok(Figures {
                per_day: reports::per_day(conn, &range)?,
                first_response: reports::first_response(conn, &range)?,
                resolution: reports::resolution(conn, &range)?,
                backlog: reports::backlog(conn, &range)?,
                people: reports::people(conn, &range)?,
                teams: reports::per_team(conn, &range)?,
                requests: reports::requests(conn, &range)?,
            })
        })
        .await
}

/// "45 s", "12 min", "3 h 20 min", "2 d 4 h"; "—" when there is none.
pub fn human_duration(seconds: Option<f64>) -> String {
    let Some(seconds) = seconds else {
        return "—".into();
    };
    let s = seconds.round().max(0.0) as i64;
    match s {
        s if s < 60 => format!("{s} s"),
        s if s < 3600 => format!("{} min", s / 60),
        s if s < 86_400 => format!("{} h {} min", s / 3600, (s % 3600) / 60),
        s => format!("{} d {} h", s / 86_400, (s % 86_400) / 3600),
    }
}

fn escape(text: &str) -> String {
    text.replace('&', "&amp;")
        .replace('<', "&lt;")
        .replace('>', "&gt;")
        .replace('"', "&quot;")
}

/// A bar chart as inline SVG: one group of bars per label, one colour per
/// series. Screen readers get the title and a summary; the table beside it
/// has every number.
pub fn bar_chart(
    id: &str,
    title: &str,
    summary: &str,
    labels: &[String],
    series: &[(&str, &str, Vec<i64>)],
) -> String {
    let (width, height, left, bottom, top) = (720.0, 240.0, 40.0, 28.0, 12.0);
    let plot_w = width - left - 8.0;
    let plot_h = height - bottom - top;
    let max = series
        .iter()
        .flat_map(|(_, _, values)| values.iter().copied())
        .max()
        .unwrap_or(0)
        .max(1) as f64;
    let groups = labels.len().max(1) as f64;
    let group_w = plot_w / groups;
    let bar_w = (group_w * 0.8 / series.len().max(1) as f64).max(1.0);
    let mut svg = format!(
        "<svg class=\"chart\" viewBox=\"0 0 {width} {height}\" role=\"img\" aria-labelledby=\"{id}-title {id}-desc\" xmlns=\"http://www.w3.org/2000/svg\">\
         <title id=\"{id}-title\">{}</title><desc id=\"{id}-desc\">{}</desc>",
        escape(title),
        escape(summary)
    );
    // Axis and the top value.
    svg.push_str(&format!(
        "<line x1=\"{left}\" y1=\"{top}\" x2=\"{left}\" y2=\"{y}\" class=\"chart-axis\"/>\
         <line x1=\"{left}\" y1=\"{y}\" x2=\"{x2}\" y2=\"{y}\" class=\"chart-axis\"/>\
         <text x=\"{tx}\" y=\"{ty}\" class=\"chart-label\" text-anchor=\"end\">{max}</text>\
         <text x=\"{tx}\" y=\"{y}\" class=\"chart-label\" text-anchor=\"end\">0</text>",
        y = top + plot_h,
        x2 = width - 8.0,
        tx = left - 4.0,
        ty = top + 10.0,
        max = max as i64,
    ));
    let every = (labels.len() / 10).max(1);
    for (g, label) in labels.iter().enumerate() {
        let x0 = left + g as f64 * group_w + group_w * 0.1;
        for (s, (_, class, values)) in series.iter().enumerate() {
            let value = values.get(g).copied().unwrap_or(0) as f64;
            let h = plot_h * value / max;
            svg.push_str(&format!(
                "<rect x=\"{:.1}\" y=\"{:.1}\" width=\"{:.1}\" height=\"{:.1}\" class=\"{class}\"/>",
                x0 + s as f64 * bar_w,
                top + plot_h - h,
                bar_w,
                h
            ));
        }
        if g % every == 0 {
            svg.push_str(&format!(
                "<text x=\"{:.1}\" y=\"{:.1}\" class=\"chart-label\">{}</text>",
                x0,
                height - 8.0,
                escape(label)
            ));
        }
    }
    svg.push_str("</svg>");
    svg
}

/// A questions row with its median and p90 time to answer, shown.
fn with_times(row: RequestRow) -> (RequestRow, String, String) {
    let (median, p90) = (
        human_duration(row.time_to_answer.median),
        human_duration(row.time_to_answer.p90),
    );
    (row, median, p90)
}

pub struct DayRow {
    pub day: String,
    pub opened: i64,
    pub closed: i64,
}

pub struct TimeRow {
    pub label: &'static str,
    pub count: i64,
    pub median: String,
    pub p90: String,
}

#[derive(Template)]
#[template(path = "pages/reports.html")]
struct ReportsPage {
    ctx: Ctx,
    query: ReportQuery,
    from: String,
    to: String,
    teams: Vec<Team>,
    errors: FieldErrors,
    daily_chart: String,
    days: Vec<DayRow>,
    total_opened: i64,
    total_closed: i64,
    times: Vec<TimeRow>,
    backlog_chart: String,
    backlog: Vec<(&'static str, i64)>,
    agents: Vec<PersonRow>,
    team_rows: Vec<TeamRow>,
    collaborators: Vec<CollaboratorRow>,
    /// Questions per person and per team, with times to answer shown.
    request_people: Vec<(RequestRow, String, String)>,
    request_teams: Vec<(RequestRow, String, String)>,
    request_total: (RequestRow, String, String),
    export_query: String,
}

impl ReportsPage {
    fn is_id(&self, value: &str, id: &i64) -> bool {
        value == id.to_string()
    }
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::ReportsView)?;
    let query = query.into_inner();
    let teams = state.db(|conn| Ok(Team::all(conn)?)).await?;
    let (range, errors, status) = match range(&current, &state, &query) {
        Ok(range) => (range, FieldErrors::default(), StatusCode::OK),
        // The page still shows the last 30 days, with the message.
        Err(errors) => (
            range(&current, &state, &ReportQuery::default()).map_err(|_| AppError::NotFound)?,
            errors,
            StatusCode::UNPROCESSABLE_ENTITY,
        ),
    };
    let t = current.tr;
    let f = figures(&state, range.clone()).await?;
    let labels: Vec<String> = f
        .per_day
        .iter()
        .map(|(d, _, _)| crate::pages::day_and_month(*d, t))
        .collect();
    let (total_opened, total_closed) = f
        .per_day
        .iter()
        .fold((0, 0), |(o, c), (_, opened, closed)| {
            (o + opened, c + closed)
        });
    let daily_chart = bar_chart(
        "daily",
        t.get("reports.daily"),
        &t.fmt(
            "reports.daily_summary",
            &[
                ("opened", &total_opened.to_string()),
                ("closed", &total_closed.to_string()),
                ("from", &range.from.to_string()),
                ("to", &range.to.to_string()),
            ],
        ),
        &labels,
        &[
            (
                t.get("reports.opened"),
                "bar bar--opened",
                f.per_day.iter().map(|d| d.1).collect(),
            ),
            (
                t.get("reports.closed"),
                "bar bar--closed",
                f.per_day.iter().map(|d| d.2).collect(),
            ),
        ],
    );
    let backlog: Vec<(&'static str, i64)> = f
        .backlog
        .iter()
        .map(|(status, n)| (t.get(&format!("status.{status}")), *n))
        .collect();
    let backlog_chart = bar_chart(
        "backlog",
        t.get("reports.backlog"),
        &backlog
            .iter()
            .map(|(label, n)| format!("{label}: {n}"))
            .collect::<Vec<_>>()
            .join(", "),
        &backlog
            .iter()
            .map(|(label, _)| label.to_string())
            .collect::<Vec<_>>(),
        &[(
            t.get("reports.backlog"),
            "bar bar--opened",
            backlog.iter().map(|b| b.1).collect(),
        )],
    );
    let time_row = |label: &'static str, d: &Durations| TimeRow {
        label,
        count: d.count,
        median: human_duration(d.median),
        p90: human_duration(d.p90),
    };
    let export_query = format!(
        "from={}&to={}&team={}",
        range.from,
        range.to,
        range.team.map(|t| t.to_string()).unwrap_or_default()
    );
    html_with_status(
        &ReportsPage {
            ctx: Ctx::for_user(&current, "reports"),
            from: range.from.to_string(),
            to: range.to.to_string(),
            query,
            teams,
            errors,
            daily_chart,
            days: f
                .per_day
                .iter()
                .map(|(d, opened, closed)| DayRow {
                    day: d.to_string(),
                    opened: *opened,
                    closed: *closed,
                })
                .collect(),
            total_opened,
            total_closed,
            times: vec![
                time_row(t.get("reports.first_response"), &f.first_response),
                time_row(t.get("reports.resolution"), &f.resolution),
            ],
            backlog_chart,
            backlog,
            agents: f.people.agents,
            team_rows: f.teams,
            collaborators: f.people.collaborators,
            request_people: f.requests.people.into_iter().map(with_times).collect(),
            request_teams: f.requests.teams.into_iter().map(with_times).collect(),
            request_total: with_times(f.requests.total),
            export_query,
        },
        status,
    )
}

/// `/reports/{table}.csv` with the page's range and team.
pub async fn export(
    current: CurrentUser,
    state: web::Data<AppState>,
    table: web::Path<String>,
    query: web::Query<ReportQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::ReportsView)?;
    let Ok(range) = range(&current, &state, &query) else {
        // The page says what is wrong with the dates.
        return Ok(crate::web::redirect(&format!(
            "/reports?from={}&to={}&team={}",
            crate::urlencoded::url_encode(&query.from),
            crate::urlencoded::url_encode(&query.to),
            crate::urlencoded::url_encode(&query.team)
        )));
    };
    let name = table.into_inner();
    let f = figures(&state, range.clone()).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let mut write = |record: Vec<String>| {
        out.write_record(
            record
                .iter()
                .map(|cell| crate::web::csv_cell(cell).into_owned()),
        )
        .map_err(|e| AppError::Internal(e.to_string()))
    };
    let seconds = |v: Option<f64>| v.map(|s| format!("{s:.0}")).unwrap_or_default();
    match name.as_str() {
        "daily" => {
            write(vec!["day".into(), "opened".into(), "closed".into()])?;
            for (day, opened, closed) in &f.per_day {
                write(vec![
                    day.to_string(),
                    opened.to_string(),
                    closed.to_string(),
                ])?;
            }
        }
        "times" => {
            write(vec![
                "measure".into(),
                "conversations".into(),
                "median_seconds".into(),
                "p90_seconds".into(),
            ])?;
            for (label, d) in [
                ("first_response", &f.first_response),
                ("resolution", &f.resolution),
            ] {
                write(vec![
                    label.into(),
                    d.count.to_string(),
                    seconds(d.median),
                    seconds(d.p90),
                ])?;
            }
        }
        "backlog" => {
            write(vec!["status".into(), "conversations".into()])?;
            for (status, n) in &f.backlog {
                write(vec![status.clone(), n.to_string()])?;
            }
        }
        "agents" => {
            write(vec![
                "name".into(),
                "replies".into(),
                "notes".into(),
                "closed".into(),
                "open_assigned".into(),
            ])?;
            for r in &f.people.agents {
                write(vec![
                    r.name.clone(),
                    r.replies.to_string(),
                    r.notes.to_string(),
                    r.closed.to_string(),
                    r.open_assigned.to_string(),
                ])?;
            }
        }
        "teams" => {
            write(vec![
                "team".into(),
                "opened".into(),
                "closed".into(),
                "open_now".into(),
            ])?;
            for r in &f.teams {
                write(vec![
                    r.name.clone(),
                    r.opened.to_string(),
                    r.closed.to_string(),
                    r.open_now.to_string(),
                ])?;
            }
        }
        "collaborators" => {
            write(vec![
                "name".into(),
                "notes".into(),
                "mentions".into(),
                "conversations".into(),
            ])?;
            for r in &f.people.collaborators {
                write(vec![
                    r.name.clone(),
                    r.notes.to_string(),
                    r.mentions.to_string(),
                    r.conversations.to_string(),
                ])?;
            }
        }
        "requests" | "request_teams" => {
            let (first, rows) = if name == "requests" {
                ("name", &f.requests.people)
            } else {
                ("team", &f.requests.teams)
            };
            write(
                [
                    first,
                    "asked_by",
                    "asked_of",
                    "answered",
                    "declined",
                    "open",
                    "median_seconds_to_answer",
                    "p90_seconds_to_answer",
                ]
                .map(String::from)
                .to_vec(),
            )?;
            for r in rows {
                write(vec![
                    r.name.clone(),
                    r.asked_by.to_string(),
                    r.asked.to_string(),
                    r.answered.to_string(),
                    r.declined.to_string(),
                    r.open.to_string(),
                    seconds(r.time_to_answer.median),
                    seconds(r.time_to_answer.p90),
                ])?;
            }
        }
        _ => return Err(AppError::NotFound),
    }
    let body = out
        .into_inner()
        .map_err(|e| AppError::Internal(e.to_string()))?;
    Ok(crate::web::csv_download(
        &format!("{name}-{}-{}.csv", range.from, range.to),
        body,
    ))
}
