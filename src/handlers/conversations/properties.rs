//! Status, priority, assignee, team and tags, changed through the conversation service; refused values come back on the page beside their fields.

use super::*;

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct PropertiesForm {
    pub status: String,
    pub snoozed_until: String,
    pub priority: String,
    pub assignee: String,
    pub team: String,
    pub tags: String,
}

pub async fn update_properties(
    req: HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<PropertiesForm>,
) -> AppResult<HttpResponse> {
    let form = form.into_inner();
    // The picker shows the reader's local time; an unreadable one is no time.
    let snoozed_until =
        chrono::NaiveDateTime::parse_from_str(&form.snoozed_until, "%Y-%m-%dT%H:%M")
            .ok()
            .and_then(|local| current.tz.from_local_datetime(&local).earliest())
            .map(|at| at.naive_utc());
    let changes = conversations::Changes {
        status: Some(form.status.clone()),
        snoozed_until,
        priority: Some(form.priority.clone()),
        assignee_id: Some(form.assignee.parse::<i64>().ok()),
        team_id: Some(form.team.parse::<i64>().ok()),
        tags: Some(vec![form.tags.clone()]),
    };
    let (id, who) = (*id, current.caller(&state, &req));
    let written = crate::web::write(&state, move |conn| {
        conversations::update_properties(conn, &who.ctx(), &who.author(), id, &changes)
    })
    .await?;
    let Err(fields) = written else {
        return Ok(redirect(&format!(
            "/conversations/{id}?notice=updated#properties-title"
        )));
    };
    let loaded = load(&current, &state, id).await?;
    let errors = fields
        .renamed(&[("assignee_id", "assignee"), ("team_id", "team")])
        .messages(current.tr);
    let props = PropertyForm {
        status: form.status,
        snoozed_until: form.snoozed_until,
        priority: form.priority,
        assignee: form.assignee,
        team: form.team,
        tags: form.tags,
    };
    render(
        &current,
        loaded,
        Drafts {
            props: Some(props),
            ..Drafts::default()
        },
        errors,
        None,
    )
}
