//! Customers and organizations: lists, profiles with their conversations
//! (only those the reader may see) and a timeline of private notes, and the
//! create/edit forms. Collaborators view and add notes; contact details are
//! masked for them when the organisation says so.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::error::{AppError, AppResult};
use crate::forms::FieldErrors;
use crate::models::customer::{self, ConversationLine, NoteTarget};
use crate::pages::{Badge, Ctx, format_datetime, html_with_status};
use crate::policy::{self, Flag};
use crate::privacy::{mask_email, mask_phone, shown};
use crate::services::customers;
use crate::state::AppState;
use crate::urlencoded::url_encode;
use crate::web::NoticeQuery;
use crate::web::redirect;
use crate::web::write;

const PAGE_SIZE: i64 = 50;

/// Whether this reader sees contact details in full.
fn unmasked(current: &CurrentUser) -> bool {
    policy::sees_contact_details(&current.actor, current.org.mask_contacts_for_collaborators)
}

pub struct CustomerRow {
    pub id: i64,
    pub name: String,
    pub email: String,
    pub phone: String,
    pub organization: String,
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct ListQuery {
    pub q: String,
    pub after_name: Option<String>,
    pub after_id: Option<i64>,
    pub notice: Option<String>,
}

#[derive(Template)]
#[template(path = "pages/customers.html")]
struct CustomersPage {
    ctx: Ctx,
    q: String,
    rows: Vec<CustomerRow>,
    next: Option<String>,
}

pub async fn list(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::CustomersView)?;
    let query = query.into_inner();
    let full = unmasked(&current);
    let search = query.q.clone();
    let after = query.after_name.clone().zip(query.after_id);
    let (rows, more) = state
        .db(move |conn| Ok(customer::list(conn, Some(&search), full, after, PAGE_SIZE)?))
        .await?;
    let next = more
        .then(|| {
            rows.last().map(|(c, _)| {
                format!(
                    "/customers?q={}&after_name={}&after_id={}",
                    url_encode(&query.q),
                    url_encode(&c.name),
                    c.id
                )
            })
        })
        .flatten();
    let rows = rows
        .into_iter()
        .map(|(c, org)| CustomerRow {
            id: c.id,
            email: shown(c.email.as_deref(), !full, mask_email),
            phone: shown(c.phone.as_deref(), !full, mask_phone),
            name: c.name,
            organization: org.unwrap_or_default(),
        })
        .collect();
    html_with_status(
        &CustomersPage {
            ctx: Ctx::for_user(&current, "customers"),
            q: query.q,
            rows,
            next,
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct CustomerForm {
    pub name: String,
    pub email: String,
    pub phone: String,
    pub organization_id: String,
}

#[derive(Template)]
#[template(path = "pages/customer_form.html")]
struct CustomerFormPage {
    ctx: Ctx,
    id: Option<i64>,
    form: CustomerForm,
    errors: FieldErrors,
    organizations: Vec<(i64, String)>,
}

impl CustomerFormPage {
    fn is_org(&self, id: &i64) -> bool {
        self.form.organization_id == id.to_string()
    }
}

async fn customer_form(
    current: &CurrentUser,
    state: &AppState,
    id: Option<i64>,
    form: CustomerForm,
    errors: FieldErrors,
) -> AppResult<HttpResponse> {
    let organizations = state
        .db(|conn| Ok(customer::all_organizations(conn)?))
        .await?;
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &CustomerFormPage {
            ctx: Ctx::for_user(current, "customers"),
            id,
            form,
            errors,
            organizations,
        },
        status,
    )
}

pub async fn new(current: CurrentUser, state: web::Data<AppState>) -> AppResult<HttpResponse> {
    current.ensure(Flag::CustomersEdit)?;
    customer_form(
        &current,
        &state,
        None,
        CustomerForm::default(),
        FieldErrors::default(),
    )
    .await
}

async fn save_customer(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: Option<i64>,
    form: CustomerForm,
) -> AppResult<HttpResponse> {
    let organization = match form.organization_id.trim() {
        "" => Ok(None),
        text => text.parse::<i64>().map(Some),
    };
    let (actor, now, f) = (current.actor.clone(), state.clock.now(), form.clone());
    let written = write(&state, move |conn| {
        let input = customers::CustomerInput {
            name: &f.name,
            email: Some(f.email.as_str()),
            phone: Some(f.phone.as_str()),
            // A number that is no organization's names none.
            organization_id: organization.clone().unwrap_or(Some(-1)),
        };
        customers::save(conn, &actor, id, &input, now)
    })
    .await?;
    match written {
        Ok(id) => Ok(redirect(&format!("/customers/{id}?notice=saved"))),
        Err(fields) => {
            let errors = fields.messages(current.tr);
            customer_form(&current, &state, id, form, errors).await
        }
    }
}

pub async fn create(
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<CustomerForm>,
) -> AppResult<HttpResponse> {
    save_customer(current, state, None, form.into_inner()).await
}

pub async fn edit(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::CustomersEdit)?;
    let id = *id;
    let found = state
        .db(move |conn| customer::find(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    let form = CustomerForm {
        name: found.name,
        email: found.email.unwrap_or_default(),
        phone: found.phone.unwrap_or_default(),
        organization_id: found
            .organization_id
            .map(|o| o.to_string())
            .unwrap_or_default(),
    };
    customer_form(&current, &state, Some(id), form, FieldErrors::default()).await
}

pub async fn update(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<CustomerForm>,
) -> AppResult<HttpResponse> {
    let id = *id;
    state
        .db(move |conn| customer::find(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    save_customer(current, state, Some(id), form.into_inner()).await
}

pub struct NoteView {
    pub author: Badge,
    pub when: String,
    pub html: String,
}

pub struct ConversationView {
    pub subject: String,
    pub status: String,
    pub when: String,
}

fn note_views(current: &CurrentUser, notes: Vec<customer::NoteLine>) -> Vec<NoteView> {
    notes
        .into_iter()
        .map(|n| NoteView {
            author: Badge::for_user(&n.author_name, Some(n.author_type)),
            when: format_datetime(n.created_at, current.tz, current.tr),
            html: crate::markdown::stored_or_render(n.body_html.as_deref(), &n.body),
        })
        .collect()
}

fn conversation_views(
    current: &CurrentUser,
    lines: Vec<ConversationLine>,
) -> Vec<ConversationView> {
    lines
        .into_iter()
        .map(|c| ConversationView {
            subject: c.subject,
            status: current.tr.get(&format!("status.{}", c.status)).to_string(),
            when: format_datetime(c.last_activity_at, current.tz, current.tr),
        })
        .collect()
}

#[derive(Template)]
#[template(path = "pages/customer.html")]
struct CustomerPage {
    ctx: Ctx,
    id: i64,
    name: String,
    email: String,
    phone: String,
    organization: Option<(i64, String)>,
    conversations: Vec<ConversationView>,
    notes: Vec<NoteView>,
    note: String,
    errors: FieldErrors,
    saved: bool,
    task_rows: Vec<super::tasks::TaskRow>,
    new_task_link: Option<String>,
    /// "Blocked since …" when their mail goes to Spam.
    blocked: Option<String>,
    can_unblock: bool,
    unblocked: bool,
}

impl CustomerPage {
    fn note_action(&self) -> String {
        format!("/customers/{}/notes", self.id)
    }
}

async fn customer_page(
    current: &CurrentUser,
    state: &AppState,
    id: i64,
    note: String,
    errors: FieldErrors,
    notice: Option<&str>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::CustomersView)?;
    let (scope, _) = policy::conversation_scope(&current.actor);
    let task_reader = super::tasks::panel_reader(current);
    let which = crate::models::task::TaskList::Customer(id);
    let (found, organization, conversations, notes, task_lines) = state
        .db(move |conn| {
            let found = customer::find(conn, id)?.ok_or(AppError::NotFound)?;
            let organization = match found.organization_id {
                Some(org) => customer::find_organization(conn, org)?.map(|o| (o.id, o.name)),
                None => None,
            };
            let conversations = customer::visible_conversations(conn, &scope, &[id], 50)?;
            let notes = customer::notes(conn, &NoteTarget::Customer(id))?;
            let tasks = super::tasks::panel_tasks(conn, task_reader.as_ref(), which)?;
            Ok((found, organization, conversations, notes, tasks))
        })
        .await?;
    let full = unmasked(current);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (task_rows, new_task_link) = super::tasks::panel(current, state, which, task_lines);
    let blocked = found.blocked_at.map(|at| {
        let day = crate::pages::format_local_date(at, current.tz, current.tr);
        current.tr.fmt("customers.blocked", &[("since", &day)])
    });
    html_with_status(
        &CustomerPage {
            task_rows,
            new_task_link,
            can_unblock: blocked.is_some()
                && policy::can(
                    &current.actor,
                    policy::Action::Use(Flag::ConversationsArchive),
                )
                .allowed,
            blocked,
            unblocked: notice == Some("unblocked"),
            saved: notice.is_some_and(|n| n != "unblocked"),
            ctx: Ctx::for_user(current, "customers"),
            id,
            email: shown(found.email.as_deref(), !full, mask_email),
            phone: shown(found.phone.as_deref(), !full, mask_phone),
            name: found.name,
            organization,
            conversations: conversation_views(current, conversations),
            notes: note_views(current, notes),
            note,
            errors,
        },
        status,
    )
}

pub async fn show(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    customer_page(
        &current,
        &state,
        *id,
        String::new(),
        FieldErrors::default(),
        query.notice.as_deref(),
    )
    .await
}

/// Unblocks a customer marked as spam; back to their page.
pub async fn unblock(
    req: actix_web::HttpRequest,
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    let (id, who) = (*id, current.caller(&state, &req));
    state
        .db(move |conn| {
            crate::db::write_transaction(conn, |conn| {
                customers::unblock(conn, &who.ctx(), &who.by(), id)
            })?;
            Ok(())
        })
        .await?;
    Ok(redirect(&format!("/customers/{id}?notice=unblocked")))
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoteForm {
    pub body: String,
}

/// Adds a private note to a customer or an organization; an empty note
/// comes back to the profile with the message.
async fn add_profile_note(
    current: CurrentUser,
    state: web::Data<AppState>,
    target: NoteTarget,
    body: String,
) -> AppResult<HttpResponse> {
    let back = match target {
        NoteTarget::Customer(id) => format!("/customers/{id}#notes"),
        NoteTarget::Organization(id) => format!("/organizations/{id}#notes"),
    };
    let (actor, now, text) = (current.actor.clone(), state.clock.now(), body.clone());
    let written = write(&state, move |conn| {
        customers::add_note(conn, &actor, &target, &text, now)
    })
    .await?;
    let Err(fields) = written else {
        return Ok(redirect(&back));
    };
    let errors = fields.messages(current.tr);
    match target {
        NoteTarget::Customer(id) => customer_page(&current, &state, id, body, errors, None).await,
        NoteTarget::Organization(id) => {
            organization_page(&current, &state, id, body, errors, false).await
        }
    }
}

pub async fn add_note(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<NoteForm>,
) -> AppResult<HttpResponse> {
    add_profile_note(
        current,
        state,
        NoteTarget::Customer(*id),
        form.into_inner().body,
    )
    .await
}

// --- Organizations -----------------------------------------------------------

pub struct OrganizationRow {
    pub id: i64,
    pub name: String,
    pub domains: String,
    pub customers: i64,
}

#[derive(Template)]
#[template(path = "pages/organizations.html")]
struct OrganizationsPage {
    ctx: Ctx,
    q: String,
    rows: Vec<OrganizationRow>,
}

pub async fn organizations(
    current: CurrentUser,
    state: web::Data<AppState>,
    query: web::Query<ListQuery>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::CustomersView)?;
    let q = query.into_inner().q;
    let search = q.clone();
    let orgs = state
        .db(move |conn| Ok(customer::list_organizations(conn, Some(&search))?))
        .await?;
    let rows = orgs
        .into_iter()
        .map(|(o, customers)| OrganizationRow {
            domains: o.domain_list().join(", "),
            id: o.id,
            name: o.name,
            customers,
        })
        .collect();
    html_with_status(
        &OrganizationsPage {
            ctx: Ctx::for_user(&current, "organizations"),
            q,
            rows,
        },
        StatusCode::OK,
    )
}

#[derive(Deserialize, Default, Clone)]
#[serde(default)]
pub struct OrganizationForm {
    pub name: String,
    pub domains: String,
}

#[derive(Template)]
#[template(path = "pages/organization_form.html")]
struct OrganizationFormPage {
    ctx: Ctx,
    id: Option<i64>,
    form: OrganizationForm,
    errors: FieldErrors,
}

fn organization_form(
    current: &CurrentUser,
    id: Option<i64>,
    form: OrganizationForm,
    errors: FieldErrors,
) -> AppResult<HttpResponse> {
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &OrganizationFormPage {
            ctx: Ctx::for_user(current, "organizations"),
            id,
            form,
            errors,
        },
        status,
    )
}

pub async fn new_organization(current: CurrentUser) -> AppResult<HttpResponse> {
    current.ensure(Flag::CustomersEdit)?;
    organization_form(
        &current,
        None,
        OrganizationForm::default(),
        FieldErrors::default(),
    )
}

async fn save_organization(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: Option<i64>,
    form: OrganizationForm,
) -> AppResult<HttpResponse> {
    let (actor, now, f) = (current.actor.clone(), state.clock.now(), form.clone());
    let written = write(&state, move |conn| {
        customers::save_organization(conn, &actor, id, &f.name, &f.domains, now)
    })
    .await?;
    match written {
        Ok(id) => Ok(redirect(&format!("/organizations/{id}?notice=saved"))),
        Err(fields) => organization_form(&current, id, form, fields.messages(current.tr)),
    }
}

pub async fn create_organization(
    current: CurrentUser,
    state: web::Data<AppState>,
    form: web::Form<OrganizationForm>,
) -> AppResult<HttpResponse> {
    save_organization(current, state, None, form.into_inner()).await
}

pub async fn edit_organization(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::CustomersEdit)?;
    let id = *id;
    let org = state
        .db(move |conn| customer::find_organization(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    let form = OrganizationForm {
        domains: org.domain_list().join(", "),
        name: org.name,
    };
    organization_form(&current, Some(id), form, FieldErrors::default())
}

pub async fn update_organization(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<OrganizationForm>,
) -> AppResult<HttpResponse> {
    let id = *id;
    state
        .db(move |conn| customer::find_organization(conn, id)?.ok_or(AppError::NotFound))
        .await?;
    save_organization(current, state, Some(id), form.into_inner()).await
}

#[derive(Template)]
#[template(path = "pages/organization.html")]
struct OrganizationPage {
    ctx: Ctx,
    id: i64,
    name: String,
    domains: String,
    members: Vec<CustomerRow>,
    conversations: Vec<ConversationView>,
    notes: Vec<NoteView>,
    note: String,
    errors: FieldErrors,
    saved: bool,
}

impl OrganizationPage {
    fn note_action(&self) -> String {
        format!("/organizations/{}/notes", self.id)
    }
}

async fn organization_page(
    current: &CurrentUser,
    state: &AppState,
    id: i64,
    note: String,
    errors: FieldErrors,
    saved: bool,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::CustomersView)?;
    let (scope, _) = policy::conversation_scope(&current.actor);
    let (org, members, conversations, notes) = state
        .db(move |conn| {
            let org = customer::find_organization(conn, id)?.ok_or(AppError::NotFound)?;
            let members = customer::members(conn, id)?;
            let ids: Vec<i64> = members.iter().map(|c| c.id).collect();
            let conversations = customer::visible_conversations(conn, &scope, &ids, 50)?;
            let notes = customer::notes(conn, &NoteTarget::Organization(id))?;
            Ok((org, members, conversations, notes))
        })
        .await?;
    let full = unmasked(current);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    html_with_status(
        &OrganizationPage {
            ctx: Ctx::for_user(current, "organizations"),
            id,
            domains: org.domain_list().join(", "),
            name: org.name,
            members: members
                .into_iter()
                .map(|c| CustomerRow {
                    id: c.id,
                    email: shown(c.email.as_deref(), !full, mask_email),
                    phone: shown(c.phone.as_deref(), !full, mask_phone),
                    name: c.name,
                    organization: String::new(),
                })
                .collect(),
            conversations: conversation_views(current, conversations),
            notes: note_views(current, notes),
            note,
            errors,
            saved,
        },
        status,
    )
}

pub async fn show_organization(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    query: web::Query<NoticeQuery>,
) -> AppResult<HttpResponse> {
    organization_page(
        &current,
        &state,
        *id,
        String::new(),
        FieldErrors::default(),
        query.notice.is_some(),
    )
    .await
}

pub async fn add_organization_note(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    form: web::Form<NoteForm>,
) -> AppResult<HttpResponse> {
    add_profile_note(
        current,
        state,
        NoteTarget::Organization(*id),
        form.into_inner().body,
    )
    .await
}
