//! Customers and organizations: lists, profiles with their conversations
//! (only those the reader may see) and a timeline of private notes, and the
//! create/edit forms. Collaborators view and add notes; contact details are
//! masked for them when the organisation says so.

use actix_web::http::StatusCode;
use actix_web::{HttpResponse, web};
use askama::Template;
use serde::Deserialize;

use crate::auth::CurrentUser;
use crate::db::write_transaction;
use crate::error::{AppError, AppResult};
use crate::forms::{Check, FieldErrors};
use crate::models::customer::{self, ConversationLine, CustomerFields, NoteTarget};
use crate::models::user::normalize_email;
use crate::pages::{Badge, Ctx, format_datetime, html_with_status};
use crate::policy::{self, Flag};
use crate::privacy::{mask_email, mask_phone, shown};
use crate::state::AppState;
use crate::urlencoded::url_encode;
use crate::web::NoticeQuery;
use crate::web::redirect;

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

/// A customer form that passed validation, normalized.
struct ValidCustomer {
    name: String,
    email: Option<String>,
    phone: Option<String>,
    organization: Option<i64>,
}

/// Checks the form; `Ok` holds the normalized values.
fn validate(current: &CurrentUser, form: &CustomerForm) -> Result<ValidCustomer, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut check = Check {
        t: current.tr,
        errors: &mut errors,
    };
    check.required("name", &form.name, 160);
    let email = Some(normalize_email(&form.email)).filter(|e| !e.is_empty());
    if let Some(email) = &email {
        check.email("email", email);
    }
    let phone = Some(form.phone.trim().to_string()).filter(|p| !p.is_empty());
    if phone.as_ref().is_some_and(|p| p.chars().count() > 40) {
        errors.add(
            "phone",
            current.tr.fmt("form.error.too_long", &[("max", "40")]),
        );
    }
    let organization = match form.organization_id.trim() {
        "" => None,
        text => match text.parse::<i64>() {
            Ok(id) => Some(id),
            Err(_) => {
                errors.add(
                    "organization_id",
                    current.tr.get("customers.error.organization"),
                );
                None
            }
        },
    };
    if errors.is_empty() {
        Ok(ValidCustomer {
            name: form.name.trim().to_string(),
            email,
            phone,
            organization,
        })
    } else {
        Err(errors)
    }
}

async fn save_customer(
    current: CurrentUser,
    state: web::Data<AppState>,
    id: Option<i64>,
    form: CustomerForm,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::CustomersEdit)?;
    let ValidCustomer {
        name,
        email,
        phone,
        organization,
    } = match validate(&current, &form) {
        Ok(values) => values,
        Err(errors) => return customer_form(&current, &state, id, form, errors).await,
    };
    let now = state.clock.now();
    let saved = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                if let Some(email) = &email
                    && customer::email_taken(conn, email, id)?
                {
                    return Ok(Err("email"));
                }
                if let Some(org) = organization
                    && customer::find_organization(conn, org)?.is_none()
                {
                    return Ok(Err("organization_id"));
                }
                // A new customer whose email matches an organization's domain joins it.
                let organization = match (organization, &email, id) {
                    (None, Some(email), None) => customer::organization_for_email(conn, email)?,
                    (chosen, _, _) => chosen,
                };
                let fields = CustomerFields {
                    name: &name,
                    email: email.as_deref(),
                    phone: phone.as_deref(),
                    organization_id: organization,
                };
                let id = match id {
                    Some(id) => {
                        customer::update(conn, id, &fields, now)?;
                        id
                    }
                    None => customer::create(conn, &fields, now)?,
                };
                Ok::<_, AppError>(Ok(id))
            })
        })
        .await?;
    match saved {
        Ok(id) => Ok(redirect(&format!("/customers/{id}?notice=saved"))),
        Err(field) => {
            let mut errors = FieldErrors::default();
            errors.add(
                field,
                current.tr.get(if field == "email" {
                    "customers.error.email_taken"
                } else {
                    "customers.error.organization"
                }),
            );
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
            author: Badge::new(&n.author_name, n.author_type == "collaborator"),
            when: format_datetime(n.created_at, current.tz),
            html: crate::markdown::render(&n.body),
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
            when: format_datetime(c.last_activity_at, current.tz),
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
    saved: bool,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::CustomersView)?;
    let (scope, _) = policy::conversation_scope(&current.actor);
    let (found, organization, conversations, notes) = state
        .db(move |conn| {
            let found = customer::find(conn, id)?.ok_or(AppError::NotFound)?;
            let organization = match found.organization_id {
                Some(org) => customer::find_organization(conn, org)?.map(|o| (o.id, o.name)),
                None => None,
            };
            let conversations = customer::visible_conversations(conn, &scope, &[id], 50)?;
            let notes = customer::notes(conn, &NoteTarget::Customer(id))?;
            Ok((found, organization, conversations, notes))
        })
        .await?;
    let full = unmasked(current);
    let status = if errors.is_empty() {
        StatusCode::OK
    } else {
        StatusCode::UNPROCESSABLE_ENTITY
    };
    let (task_rows, new_task_link) =
        super::tasks::panel(current, state, crate::models::task::TaskList::Customer(id)).await?;
    html_with_status(
        &CustomerPage {
            task_rows,
            new_task_link,
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
            saved,
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
        query.notice.is_some(),
    )
    .await
}

#[derive(Deserialize, Default)]
#[serde(default)]
pub struct NoteForm {
    pub body: String,
}

fn check_note(current: &CurrentUser, body: &str) -> FieldErrors {
    let mut errors = FieldErrors::default();
    Check {
        t: current.tr,
        errors: &mut errors,
    }
    .required("body", body, 20_000);
    errors
}

/// Adds a private note to a customer or an organization; an empty note
/// comes back to the profile with the message.
async fn add_profile_note(
    current: CurrentUser,
    state: web::Data<AppState>,
    target: NoteTarget,
    body: String,
) -> AppResult<HttpResponse> {
    current.ensure(Flag::CustomersNote)?;
    let errors = check_note(&current, &body);
    if !errors.is_empty() {
        return match target {
            NoteTarget::Customer(id) => {
                customer_page(&current, &state, id, body, errors, false).await
            }
            NoteTarget::Organization(id) => {
                organization_page(&current, &state, id, body, errors, false).await
            }
        };
    }
    let back = match target {
        NoteTarget::Customer(id) => format!("/customers/{id}#notes"),
        NoteTarget::Organization(id) => format!("/organizations/{id}#notes"),
    };
    let (author, now) = (current.user.id, state.clock.now());
    state
        .db(move |conn| {
            let exists = match target {
                NoteTarget::Customer(id) => customer::find(conn, id)?.is_some(),
                NoteTarget::Organization(id) => customer::find_organization(conn, id)?.is_some(),
            };
            if !exists {
                return Err(AppError::NotFound);
            }
            customer::add_note(conn, &target, author, body.trim(), now)?;
            Ok(())
        })
        .await?;
    Ok(redirect(&back))
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
    current.ensure(Flag::CustomersEdit)?;
    let mut errors = FieldErrors::default();
    Check {
        t: current.tr,
        errors: &mut errors,
    }
    .required("name", &form.name, 160);
    let domains = customer::parse_domains(&form.domains);
    if let Some(bad) = domains.iter().find(|d| !customer::valid_domain(d)) {
        errors.add(
            "domains",
            current
                .tr
                .fmt("organizations.error.domain", &[("domain", bad)]),
        );
    }
    if !errors.is_empty() {
        return organization_form(&current, id, form, errors);
    }
    let now = state.clock.now();
    let name = form.name.clone();
    let saved = state
        .db(move |conn| {
            write_transaction(conn, |conn| {
                if customer::organization_name_taken(conn, &name, id)? {
                    return Ok(None);
                }
                let id = match id {
                    Some(id) => {
                        customer::update_organization(conn, id, &name, &domains, now)?;
                        id
                    }
                    None => customer::create_organization(conn, &name, &domains, now)?,
                };
                customer::adopt_by_domain(conn, id, &domains)?;
                Ok::<_, AppError>(Some(id))
            })
        })
        .await?;
    match saved {
        Some(id) => Ok(redirect(&format!("/organizations/{id}?notice=saved"))),
        None => {
            let mut errors = FieldErrors::default();
            errors.add("name", current.tr.get("organizations.error.taken"));
            organization_form(&current, id, form, errors)
        }
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
