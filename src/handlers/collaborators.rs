//! Settings > Collaborators (owner and admins): the evidence that
//! collaborators never reach a customer — replies written by collaborators
//! (none can be) and their refused attempts of the last 90 days by channel —
//! beside the allowance, the grants in force and the questions they
//! answered in the last 90 days.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;

use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::models::grant::{self, Target};
use crate::models::people;
use crate::models::refused;
use crate::pages::{Ctx, html_with_status};
use crate::policy::{self, Action, Flag};
use crate::state::AppState;

/// How far back refused attempts are summed.
const ATTEMPT_DAYS: i64 = 90;

/// A grant in force as the page lists it.
struct GrantRow {
    /// (link, label) of what it opens.
    opens: (String, String),
    line: String,
}

#[derive(Template)]
#[template(path = "pages/settings_collaborators.html")]
struct CollaboratorsPage {
    ctx: Ctx,
    delivered: i64,
    /// (channel's catalog key, attempts) for web, API and email.
    attempts: Vec<(String, i64)>,
    attempts_total: i64,
    collaborators: i64,
    allowed: Option<i64>,
    grants: Vec<GrantRow>,
    /// Questions asked of collaborators in the last 90 days, and the
    /// median time to answer them.
    questions: crate::reports::RequestRow,
    median_to_answer: String,
}

pub async fn show(current: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::SettingsOrg))?;
    let (org, now) = (current.org.clone(), state.clock.now());
    let since = now - chrono::Duration::days(ATTEMPT_DAYS);
    let days = crate::reports::Range {
        from: since.date(),
        to: now.date(),
        team: None,
    };
    let (delivered, attempts, seats, shown, questions) = state
        .db(move |conn| {
            Ok((
                refused::replies_by_collaborators(conn)?,
                refused::per_channel_since(conn, since)?,
                people::seats(conn, &org, org.today(now))?,
                grant::in_force_all(conn)?,
                crate::reports::requests(conn, &days)?.collaborators,
            ))
        })
        .await?;
    let t = current.tr;
    let grants = shown
        .into_iter()
        .map(|g| {
            let link = match g.grant.target() {
                Target::Conversation(id) => format!("/conversations/{id}"),
                Target::Customer(id) => format!("/customers/{id}"),
            };
            GrantRow {
                line: crate::handlers::conversations::grant_line(&g, &current, t),
                opens: (link, g.target_label.clone()),
            }
        })
        .collect();
    let page = CollaboratorsPage {
        ctx: Ctx::for_user(&current, "collaborators"),
        delivered,
        attempts_total: attempts.iter().map(|(_, n)| n).sum(),
        attempts: attempts
            .into_iter()
            .map(|(channel, n)| (format!("collaborators.channel.{channel}"), n))
            .collect(),
        collaborators: seats.collaborators,
        allowed: seats.collaborators_allowed,
        grants,
        median_to_answer: crate::handlers::reports::human_duration(questions.time_to_answer.median),
        questions,
    };
    html_with_status(&page, StatusCode::OK)
}
