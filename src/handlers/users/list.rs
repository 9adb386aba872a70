//! The users list with its seat summary, tabs and filters, and the dormant-seats report (page and CSV).

use super::*;

/// One row of the users list, ready to print.
pub struct UserRow {
    pub id: i64,
    pub badge: Badge,
    pub email: String,
    pub type_label: &'static str,
    pub role_label: String,
    pub teams: String,
    pub last_active: String,
    pub status: String,
    pub status_class: &'static str,
    pub window: String,
}

pub(super) fn type_label(t: Tr, user_type: UserType) -> &'static str {
    t.get(&format!("users.type.{}", user_type.key()))
}

pub(super) fn rows(
    current: &CurrentUser,
    users: Vec<(User, Option<Role>)>,
    teams: &std::collections::HashMap<i64, Vec<String>>,
    deliveries: &std::collections::HashMap<i64, Delivery>,
    now: NaiveDateTime,
) -> Vec<UserRow> {
    let t = current.tr;
    let today = current.today(now);
    users
        .into_iter()
        .map(|(user, role)| {
            let user_type = user.user_type();
            let (status, status_class) =
                status_of(t, &user, deliveries.get(&user.id), today, current.tz);
            UserRow {
                id: user.id,
                badge: Badge::for_user(&user.name, Some(user_type)),
                email: user.email.clone(),
                type_label: type_label(t, user_type),
                role_label: match (user_type, role.as_ref()) {
                    (UserType::Collaborator, _) | (_, None) => "—".into(),
                    (_, Some(role)) => role_label(role, t),
                },
                teams: teams
                    .get(&user.id)
                    .map(|v| v.join(", "))
                    .unwrap_or_default(),
                last_active: user
                    .last_active_at
                    .map(|at| format_datetime(at, current.tz, current.tr))
                    .unwrap_or_else(|| t.get("users.never").to_string()),
                status,
                status_class,
                window: match (user.access_starts, user.access_ends) {
                    (Some(s), Some(e)) => format!("{s} – {e}"),
                    _ => String::new(),
                },
            }
        })
        .collect()
}

pub(super) fn status_of(
    t: Tr,
    user: &User,
    delivery: Option<&Delivery>,
    today: chrono::NaiveDate,
    tz: chrono_tz::Tz,
) -> (String, &'static str) {
    if !user.active {
        return (t.get("users.status.deactivated").into(), "pill--neutral");
    }
    if user.password_hash.is_none() {
        return match delivery {
            Some(d) if d.status == "sent" => (
                t.fmt(
                    "users.status.invited_sent",
                    &[("date", &format_datetime(d.expires_at, tz, t))],
                ),
                "pill--pending",
            ),
            Some(d) if d.status == "failing" || d.status == "failed" => (
                t.fmt(
                    "users.status.invited_failing",
                    &[("error", d.last_error.as_deref().unwrap_or("?"))],
                ),
                "pill--danger",
            ),
            _ => (t.get("users.status.invited_queued").into(), "pill--pending"),
        };
    }
    match user.access_state(today) {
        crate::models::user::AccessState::WindowNotStarted(date) => (
            t.fmt(
                "users.status.window_upcoming",
                &[("date", &date.to_string())],
            ),
            "pill--pending",
        ),
        crate::models::user::AccessState::WindowEnded(date) => (
            t.fmt("users.status.window_ended", &[("date", &date.to_string())]),
            "pill--neutral",
        ),
        _ => (t.get("users.status.active").into(), "pill--open"),
    }
}

#[derive(Deserialize, Default)]
pub struct ListQuery {
    pub tab: Option<String>,
    pub q: Option<String>,
    pub user_type: Option<String>,
    pub role: Option<String>,
    pub team: Option<String>,
    pub dormant: Option<String>,
    pub after_name: Option<String>,
    pub after_id: Option<i64>,
    pub notice: Option<String>,
    pub added: Option<usize>,
    pub updated: Option<usize>,
}

impl ListQuery {
    fn dormant_days(&self) -> Option<i64> {
        self.dormant
            .as_deref()
            .and_then(|d| d.parse::<i64>().ok())
            .filter(|d| (1..=3650).contains(d))
    }

    pub(super) fn filter(&self, now: NaiveDateTime) -> UserFilter {
        UserFilter {
            tab: Tab::parse(self.tab.as_deref().unwrap_or("")),
            search: self.q.clone(),
            user_type: self.user_type.as_deref().and_then(UserType::parse),
            role_id: self.role.as_deref().and_then(|r| r.parse().ok()),
            team_id: self.team.as_deref().and_then(|t| t.parse().ok()),
            inactive_since: self.dormant_days().map(|d| now - Duration::days(d)),
            after: self.after_name.clone().zip(self.after_id),
        }
    }
}

#[derive(Template)]
#[template(path = "pages/users_list.html")]
pub(super) struct ListPage {
    pub(super) ctx: Ctx,
    pub(super) query: ListQuery,
    pub(super) tab: Tab,
    pub(super) seats: Seats,
    pub(super) rows: Vec<UserRow>,
    pub(super) next: Option<String>,
    pub(super) roles: Vec<(i64, String)>,
    pub(super) teams: Vec<Team>,
    pub(super) notice: Option<String>,
    /// May change several users at once (the selection and its form).
    pub(super) can_bulk: bool,
    /// Who open conversations may go to when users are deactivated.
    pub(super) assignees: Vec<(i64, String)>,
}

impl ListPage {
    fn tab_link(&self, tab: &str) -> String {
        format!("/settings/users?tab={tab}")
    }

    fn selected(&self, value: &Option<String>, option: &str) -> bool {
        value.as_deref() == Some(option)
    }

    fn selected_id(&self, value: &Option<String>, id: &i64) -> bool {
        value.as_deref() == Some(id.to_string().as_str())
    }

    fn type_options(&self) -> Vec<(&'static str, &'static str)> {
        UserType::ALL
            .iter()
            .map(|&t| (t.key(), type_label(self.ctx.t, t)))
            .collect()
    }

    fn q(&self) -> &str {
        self.query.q.as_deref().unwrap_or("")
    }

    fn dormant(&self) -> String {
        self.query.dormant.clone().unwrap_or_default()
    }

    fn allowed_text(&self) -> String {
        match self.seats.collaborators_allowed {
            Some(n) => n.to_string(),
            None => self.ctx.t.get("users.seats.unlimited").to_string(),
        }
    }
}

pub(super) fn notice_key(notice: Option<&str>) -> Option<&'static str> {
    match notice? {
        "invited" => Some("users.notice.invited"),
        "saved" => Some("users.notice.saved"),
        "deactivated" => Some("users.notice.deactivated"),
        "reactivated" => Some("users.notice.reactivated"),
        "resent" => Some("users.notice.resent"),
        "revoked" => Some("users.notice.revoked"),
        "two_factor_reset" => Some("users.notice.two_factor_reset"),
        _ => None,
    }
}

pub(super) fn role_choices(roles: &[Role], t: Tr) -> Vec<(i64, String)> {
    roles.iter().map(|r| (r.id, role_label(r, t))).collect()
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersView))?;
    let query = query.into_inner();
    let now = state.clock.now();
    let filter = query.filter(now);
    let org = current.org.clone();
    let today = current.today(now);
    let (pickers, version) = (state.pickers.clone(), current.org.directory_version);
    let (seats, (users, more), teams, deliveries, roles, all_teams, pickers) = state
        .db(move |conn| {
            let seats = people::seats(conn, &org, today)?;
            let page = people::list_users(conn, &filter, PAGE_SIZE)?;
            let ids: Vec<i64> = page.0.iter().map(|(u, _)| u.id).collect();
            let teams = people::team_names_of(conn, &ids)?;
            let deliveries = invitation::deliveries(conn, &ids)?;
            Ok((
                seats,
                page,
                teams,
                deliveries,
                Role::all(conn)?,
                Team::all(conn)?,
                pickers.get(conn, version)?,
            ))
        })
        .await?;
    let next = more.then(|| {
        users.last().map(|(u, _)| {
            let mut link = format!(
                "/settings/users?tab={}&after_name={}&after_id={}",
                Tab::parse(query.tab.as_deref().unwrap_or("")).key(),
                crate::urlencoded::url_encode(&u.name),
                u.id
            );
            for (key, value) in [
                ("q", &query.q),
                ("user_type", &query.user_type),
                ("role", &query.role),
                ("team", &query.team),
                ("dormant", &query.dormant),
            ] {
                if let Some(v) = value.as_deref().filter(|v| !v.is_empty()) {
                    link.push_str(&format!("&{key}={}", crate::urlencoded::url_encode(v)));
                }
            }
            link
        })
    });
    let rows = rows(&current, users, &teams, &deliveries, now);
    let page = ListPage {
        ctx: Ctx::for_user(&current, "users"),
        tab: Tab::parse(query.tab.as_deref().unwrap_or("")),
        notice: match query.notice.as_deref() {
            Some("imported") => Some(current.tr.fmt(
                "users.notice.imported",
                &[
                    ("added", &query.added.unwrap_or(0).to_string()),
                    ("updated", &query.updated.unwrap_or(0).to_string()),
                ],
            )),
            other => notice_key(other).map(|key| current.tr.get(key).to_string()),
        },
        seats,
        rows,
        next: next.flatten(),
        roles: role_choices(&roles, current.tr),
        teams: all_teams,
        can_bulk: policy::can(&current.actor, Action::Use(Flag::UsersManage)).allowed,
        assignees: pickers.assignees.clone(),
        query,
    };
    html_with_status(&page, StatusCode::OK)
}

#[derive(Deserialize, Default)]
pub struct DormantQuery {
    pub days: Option<String>,
}

impl DormantQuery {
    fn days(&self) -> i64 {
        self.days
            .as_deref()
            .and_then(|d| d.trim().parse().ok())
            .filter(|d| (1..=3650).contains(d))
            .unwrap_or(DEFAULT_DORMANT_DAYS)
    }
}

#[derive(Template)]
#[template(path = "pages/users_dormant.html")]
pub(super) struct DormantPage {
    pub(super) ctx: Ctx,
    pub(super) days: i64,
    pub(super) rows: Vec<UserRow>,
}

pub(super) async fn dormant_rows(
    current: &CurrentUser,
    state: &AppState,
    days: i64,
) -> AppResult<Vec<UserRow>> {
    policy::ensure(&current.actor, Action::Use(Flag::UsersView))?;
    let now = state.clock.now();
    let since = now - Duration::days(days);
    let (users, teams) = state
        .db(move |conn| {
            let users = people::dormant_users(conn, since)?;
            let ids: Vec<i64> = users.iter().map(|(u, _)| u.id).collect();
            Ok((users, people::team_names_of(conn, &ids)?))
        })
        .await?;
    Ok(rows(current, users, &teams, &Default::default(), now))
}

pub async fn dormant(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<DormantQuery>,
) -> AppResult<HttpResponse> {
    let days = query.days();
    let rows = dormant_rows(&current, &state, days).await?;
    html_with_status(
        &DormantPage {
            ctx: Ctx::for_user(&current, "users"),
            days,
            rows,
        },
        StatusCode::OK,
    )
}

pub async fn dormant_csv(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<DormantQuery>,
) -> AppResult<HttpResponse> {
    let days = query.days();
    let rows = dormant_rows(&current, &state, days).await?;
    let mut out = csv::Writer::from_writer(Vec::new());
    let write = |out: &mut csv::Writer<Vec<u8>>, record: &[&str]| {
        out.write_record(record)
            .map_err(|e| AppError::Internal(format!("csv: {e}")))
    };
    write(
        &mut out,
        &["name", "email", "type", "role", "teams", "last_active"],
    )?;
    for row in &rows {
        let cells = [
            &row.badge.name,
            &row.email,
            row.type_label,
            &row.role_label,
            &row.teams,
            &row.last_active,
        ];
        let cells: Vec<_> = cells.iter().map(|c| crate::web::csv_cell(c)).collect();
        out.write_record(cells.iter().map(|c| c.as_ref()))
            .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    }
    let body = out
        .into_inner()
        .map_err(|e| AppError::Internal(format!("csv: {e}")))?;
    Ok(crate::web::csv_download(
        &format!("dormant-users-{days}-days.csv"),
        body,
    ))
}
