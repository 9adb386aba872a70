//! Customers, organizations and the private notes on both.

use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};

use super::idempotency::{self, Created};
use super::{ApiError, ApiResult, ApiUser, Page, cursor, page_limit, time};
use crate::models::customer::{self, CustomerWithOrg, NoteTarget};
use crate::policy::{self, Action, Flag};
use crate::privacy::{mask_email, mask_phone};
use crate::services::customers;
use crate::state::AppState;

#[derive(Serialize, ToSchema)]
pub struct CustomerOut {
    pub id: i64,
    pub name: String,
    /// Masked (`j•••@example.com`) for collaborators when the organisation says so.
    pub email: Option<String>,
    pub phone: Option<String>,
    pub organization_id: Option<i64>,
    pub organization_name: Option<String>,
    pub created_at: DateTime<Utc>,
}

pub fn output((c, organization_name): CustomerWithOrg, full_contacts: bool) -> CustomerOut {
    CustomerOut {
        id: c.id,
        name: c.name,
        email: c
            .email
            .map(|e| if full_contacts { e } else { mask_email(&e) }),
        phone: c
            .phone
            .map(|p| if full_contacts { p } else { mask_phone(&p) }),
        organization_id: c.organization_id,
        organization_name,
        created_at: time(c.created_at),
    }
}

fn full_contacts(api: &ApiUser) -> bool {
    policy::sees_contact_details(&api.actor, api.org.mask_contacts_for_collaborators)
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CustomerQuery {
    /// Part of the name (or of the email, for readers who see emails).
    #[param(max_length = 500)]
    pub q: Option<String>,
    pub cursor: Option<String>,
    /// 1–100, default 50.
    #[param(minimum = 1, maximum = 100)]
    pub limit: Option<i64>,
}

/// Customers by name.
#[utoipa::path(get, path = "/api/v1/customers", tag = "customers", params(CustomerQuery),
    responses((status = 200, body = Page<CustomerOut>)))]
pub async fn list(
    api: ApiUser,
    state: web::Data<AppState>,
    query: web::Query<CustomerQuery>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::CustomersView))?;
    let q = query.into_inner();
    let limit = page_limit(q.limit)?;
    let after: Option<(String, i64)> = cursor::decode(q.cursor.as_deref())?;
    let full = full_contacts(&api);
    let (rows, more) = super::db(&state, move |conn| {
        Ok(customer::list(conn, q.q.as_deref(), full, after, limit)?)
    })
    .await?;
    let next_cursor = more
        .then(|| rows.last().map(|(c, _)| cursor::encode(&(&c.name, c.id))))
        .flatten();
    Ok(HttpResponse::Ok().json(Page {
        data: rows.into_iter().map(|r| output(r, full)).collect(),
        next_cursor,
    }))
}

fn load(conn: &mut crate::db::DbConn, id: i64) -> ApiResult<CustomerWithOrg> {
    let c = customer::find(conn, id)?.ok_or_else(ApiError::not_found)?;
    let org = match c.organization_id {
        Some(o) => customer::find_organization(conn, o)?.map(|o| o.name),
        None => None,
    };
    Ok((c, org))
}

#[utoipa::path(get, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = i64, Path)), responses((status = 200, body = CustomerOut)))]
pub async fn show(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::CustomersView))?;
    let id = *id;
    let full = full_contacts(&api);
    let found = super::db(&state, move |conn| load(conn, id)).await?;
    Ok(HttpResponse::Ok().json(output(found, full)))
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CustomerInput {
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub name: String,
    #[schema(format = Email, max_length = 254)]
    pub email: Option<String>,
    pub phone: Option<String>,
    pub organization_id: Option<i64>,
}

/// Runs a customer write for the API; refusals become its JSON errors.
fn save(
    conn: &mut crate::db::DbConn,
    actor: &crate::policy::Actor,
    id: Option<i64>,
    input: &CustomerInput,
    now: chrono::NaiveDateTime,
) -> ApiResult<i64> {
    let values = customers::CustomerInput {
        name: &input.name,
        email: input.email.as_deref(),
        phone: input.phone.as_deref(),
        organization_id: input.organization_id,
    };
    Ok(customers::save(conn, actor, id, &values, now)?)
}

#[utoipa::path(post, path = "/api/v1/customers", tag = "customers", request_body = CustomerInput,
    params(("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]{0,253}[!-~])?$", description = "Retries with the same key and body get the first response")),
    responses((status = 201, body = CustomerOut, headers(("Location" = String)))))]
pub async fn create(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    body: web::Json<CustomerInput>,
) -> ApiResult<HttpResponse> {
    let input = body.into_inner();
    let now = state.clock.now();
    let (full, actor) = (full_contacts(&api), api.actor.clone());
    let request = serde_json::to_value(&input)?;
    idempotency::run(&state, &api, &req, &request, move |conn| {
        let id = save(conn, &actor, None, &input, now)?;
        let out = output(load(conn, id)?, full);
        Ok(Created::new(out, format!("/api/v1/customers/{id}")))
    })
    .await
}

#[utoipa::path(patch, path = "/api/v1/customers/{id}", tag = "customers",
    params(("id" = i64, Path)), request_body = CustomerInput,
    responses((status = 200, body = CustomerOut)))]
pub async fn update(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
    body: web::Json<CustomerInput>,
) -> ApiResult<HttpResponse> {
    let (id, input, now, full) = (
        *id,
        body.into_inner(),
        state.clock.now(),
        full_contacts(&api),
    );
    let actor = api.actor.clone();
    let out = super::db(&state, move |conn| {
        crate::db::write_transaction(conn, |conn| {
            save(conn, &actor, Some(id), &input, now)?;
            Ok(output(load(conn, id)?, full))
        })
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[derive(Serialize, ToSchema)]
pub struct NoteOut {
    pub id: i64,
    pub body: String,
    pub author_name: String,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct NoteList {
    pub data: Vec<NoteOut>,
}

#[derive(Deserialize, Serialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct NoteInput {
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = "[^\\t\\n\\u000b\\f\\r \\u0000\\u0085\\u00a0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]"
    )]
    pub body: String,
}

async fn notes_of(api: &ApiUser, state: &AppState, target: NoteTarget) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::CustomersView))?;
    let notes = super::db(state, move |conn| {
        exists(conn, &target)?;
        Ok(customer::notes(conn, &target)?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(NoteList {
        data: notes
            .into_iter()
            .map(|n| NoteOut {
                id: n.id,
                body: n.body,
                author_name: n.author_name,
                created_at: time(n.created_at),
            })
            .collect(),
    }))
}

fn exists(conn: &mut crate::db::DbConn, target: &NoteTarget) -> ApiResult<()> {
    let found = match target {
        NoteTarget::Customer(id) => customer::find(conn, *id)?.is_some(),
        NoteTarget::Organization(id) => customer::find_organization(conn, *id)?.is_some(),
    };
    if found {
        Ok(())
    } else {
        Err(ApiError::not_found())
    }
}

async fn add_note_to(
    api: &ApiUser,
    state: &AppState,
    req: &HttpRequest,
    target: NoteTarget,
    input: NoteInput,
    location: String,
) -> ApiResult<HttpResponse> {
    let (actor, author_name, now) = (api.actor.clone(), api.user.name.clone(), state.clock.now());
    let request = serde_json::to_value(&input)?;
    idempotency::run(state, api, req, &request, move |conn| {
        let id = customers::add_note(conn, &actor, &target, &input.body, now)?;
        let body = input.body.trim().to_string();
        let out = NoteOut {
            id,
            body,
            author_name,
            created_at: time(now),
        };
        Ok(Created::new(out, location))
    })
    .await
}

/// Private notes on a customer, newest first.
#[utoipa::path(get, path = "/api/v1/customers/{id}/notes", tag = "customers",
    params(("id" = i64, Path)), responses((status = 200, body = NoteList)))]
pub async fn notes(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    notes_of(&api, &state, NoteTarget::Customer(*id)).await
}

#[utoipa::path(post, path = "/api/v1/customers/{id}/notes", tag = "customers",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]{0,253}[!-~])?$", description = "Retries with the same key and body get the first response")),
    request_body = NoteInput,
    responses((status = 201, body = NoteOut, headers(("Location" = String)))))]
pub async fn add_note(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<NoteInput>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    let location = format!("/api/v1/customers/{id}/notes");
    add_note_to(
        &api,
        &state,
        &req,
        NoteTarget::Customer(id),
        body.into_inner(),
        location,
    )
    .await
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationOut {
    pub id: i64,
    pub name: String,
    pub domains: Vec<String>,
    pub customer_count: i64,
    pub created_at: DateTime<Utc>,
}

#[derive(Serialize, ToSchema)]
pub struct OrganizationList {
    pub data: Vec<OrganizationOut>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct OrganizationQuery {
    /// Part of the name or a domain.
    #[param(max_length = 500)]
    pub q: Option<String>,
}

fn organization_out(o: customer::Organization, customer_count: i64) -> OrganizationOut {
    OrganizationOut {
        domains: o.domain_list().iter().map(|d| d.to_string()).collect(),
        id: o.id,
        name: o.name,
        customer_count,
        created_at: time(o.created_at),
    }
}

/// Organizations by name, with how many customers each has.
#[utoipa::path(get, path = "/api/v1/organizations", tag = "customers", params(OrganizationQuery),
    responses((status = 200, body = OrganizationList)))]
pub async fn organizations(
    api: ApiUser,
    state: web::Data<AppState>,
    query: web::Query<OrganizationQuery>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::CustomersView))?;
    let q = query.into_inner().q;
    let rows = super::db(&state, move |conn| {
        Ok(customer::list_organizations(conn, q.as_deref())?)
    })
    .await?;
    Ok(HttpResponse::Ok().json(OrganizationList {
        data: rows
            .into_iter()
            .map(|(o, n)| organization_out(o, n))
            .collect(),
    }))
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}", tag = "customers",
    params(("id" = i64, Path)), responses((status = 200, body = OrganizationOut)))]
pub async fn organization(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    api.ensure(Action::Use(Flag::CustomersView))?;
    let id = *id;
    let out = super::db(&state, move |conn| {
        let o = customer::find_organization(conn, id)?.ok_or_else(ApiError::not_found)?;
        let count = customer::members(conn, id)?.len() as i64;
        Ok(organization_out(o, count))
    })
    .await?;
    Ok(HttpResponse::Ok().json(out))
}

#[utoipa::path(get, path = "/api/v1/organizations/{id}/notes", tag = "customers",
    params(("id" = i64, Path)), responses((status = 200, body = NoteList)))]
pub async fn organization_notes(
    api: ApiUser,
    state: web::Data<AppState>,
    id: web::Path<i64>,
) -> ApiResult<HttpResponse> {
    notes_of(&api, &state, NoteTarget::Organization(*id)).await
}

#[utoipa::path(post, path = "/api/v1/organizations/{id}/notes", tag = "customers",
    params(("id" = i64, Path), ("Idempotency-Key" = Option<String>, Header, min_length = 1, max_length = 255, pattern = "^[!-~]([ -~]{0,253}[!-~])?$", description = "Retries with the same key and body get the first response")),
    request_body = NoteInput,
    responses((status = 201, body = NoteOut, headers(("Location" = String)))))]
pub async fn add_organization_note(
    api: ApiUser,
    state: web::Data<AppState>,
    req: HttpRequest,
    id: web::Path<i64>,
    body: web::Json<NoteInput>,
) -> ApiResult<HttpResponse> {
    let id = *id;
    let location = format!("/api/v1/organizations/{id}/notes");
    add_note_to(
        &api,
        &state,
        &req,
        NoteTarget::Organization(id),
        body.into_inner(),
        location,
    )
    .await
}
