//! Customers and organizations: create and edit them, add private notes —
//! one set of rules for the browser and the API (`customers.edit`,
//! `customers.note`; a unique customer email and organization name; a new
//! customer joins the organization of their email's domain).

use chrono::NaiveDateTime;

use super::{Fields, Problem, Refusal};
use crate::db::DbConn;
use crate::models::customer::{self, CustomerFields, NoteTarget};
use crate::models::user::normalize_email;
use crate::policy::{self, Action, Actor, Flag};

pub const MAX_NAME_CHARS: usize = 200;
pub const MAX_PHONE_CHARS: usize = 50;
pub const MAX_NOTE_CHARS: usize = 10_000;

/// A customer as the form or the API describes them (fields `name`,
/// `email`, `phone`, `organization_id`). Empty email or phone is none.
pub struct CustomerInput<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub organization_id: Option<i64>,
}

/// Creates (`id` none) or updates a customer; returns their id.
pub fn save(
    conn: &mut DbConn,
    actor: &Actor,
    id: Option<i64>,
    input: &CustomerInput,
    now: NaiveDateTime,
) -> Result<i64, Refusal> {
    policy::ensure(actor, Action::Use(Flag::CustomersEdit))?;
    if let Some(id) = id {
        customer::find(conn, id)?.ok_or(Refusal::NotFound)?;
    }
    let mut fields = Fields::default();
    fields.text("name", input.name, MAX_NAME_CHARS);
    let email = input.email.map(normalize_email).filter(|e| !e.is_empty());
    if let Some(email) = &email {
        if !crate::forms::is_email(email) {
            fields.add("email", Problem::Email);
        } else if customer::email_taken(conn, email, id)? {
            fields.add(
                "email",
                Problem::Taken {
                    key: "customers.error.email_taken",
                    english: "belongs to another customer",
                },
            );
        }
    }
    let phone = input.phone.map(str::trim).filter(|p| !p.is_empty());
    if phone.is_some_and(|p| p.chars().count() > MAX_PHONE_CHARS) {
        fields.add("phone", Problem::TooLong(MAX_PHONE_CHARS));
    }
    if let Some(org) = input.organization_id
        && customer::find_organization(conn, org)?.is_none()
    {
        fields.add(
            "organization_id",
            Problem::Unknown {
                key: "customers.error.organization",
                english: "no such organization",
            },
        );
    }
    super::check(fields)?;
    // A new customer whose email matches an organization's domain joins it.
    let organization_id = match (input.organization_id, &email, id) {
        (None, Some(email), None) => customer::organization_for_email(conn, email)?,
        (chosen, _, _) => chosen,
    };
    let values = CustomerFields {
        name: input.name.trim(),
        email: email.as_deref(),
        phone,
        organization_id,
    };
    match id {
        Some(id) => {
            customer::update(conn, id, &values, now)?;
            Ok(id)
        }
        None => Ok(customer::create(conn, &values, now)?),
    }
}

/// Creates (`id` none) or updates an organization (fields `name`,
/// `domains`); customers with an email at its domains join it.
pub fn save_organization(
    conn: &mut DbConn,
    actor: &Actor,
    id: Option<i64>,
    name: &str,
    domains: &str,
    now: NaiveDateTime,
) -> Result<i64, Refusal> {
    policy::ensure(actor, Action::Use(Flag::CustomersEdit))?;
    if let Some(id) = id {
        customer::find_organization(conn, id)?.ok_or(Refusal::NotFound)?;
    }
    let mut fields = Fields::default();
    fields.text("name", name, MAX_NAME_CHARS);
    let domains = customer::parse_domains(domains);
    if let Some(bad) = domains.iter().find(|d| !customer::valid_domain(d)) {
        fields.add("domains", Problem::Domain(bad.clone()));
    }
    if fields.is_empty() && customer::organization_name_taken(conn, name, id)? {
        fields.add(
            "name",
            Problem::Taken {
                key: "organizations.error.taken",
                english: "belongs to another organization",
            },
        );
    }
    super::check(fields)?;
    let id = match id {
        Some(id) => {
            customer::update_organization(conn, id, name, &domains, now)?;
            id
        }
        None => customer::create_organization(conn, name, &domains, now)?,
    };
    customer::adopt_by_domain(conn, id, &domains)?;
    Ok(id)
}

/// A private note on a customer or an organization (field `body`).
pub fn add_note(
    conn: &mut DbConn,
    actor: &Actor,
    target: &NoteTarget,
    body: &str,
    now: NaiveDateTime,
) -> Result<i64, Refusal> {
    policy::ensure(actor, Action::Use(Flag::CustomersNote))?;
    let found = match target {
        NoteTarget::Customer(id) => customer::find(conn, *id)?.is_some(),
        NoteTarget::Organization(id) => customer::find_organization(conn, *id)?.is_some(),
    };
    if !found {
        return Err(Refusal::NotFound);
    }
    let mut fields = Fields::default();
    fields.text("body", body, MAX_NOTE_CHARS);
    super::check(fields)?;
    Ok(customer::add_note(
        conn,
        target,
        actor.user_id,
        body.trim(),
        now,
    )?)
}

/// The customer who wrote from `email` (found without case, or created with
/// `name`): their id and the name to show.
/// Unblocks a customer marked as spam (the archive permission): their mail
/// comes in as usual again. Their conversations stay where they are.
pub fn unblock(
    conn: &mut DbConn,
    ctx: &super::Ctx,
    by: &super::By,
    id: i64,
) -> Result<(), Refusal> {
    policy::ensure(by.actor, Action::Use(Flag::ConversationsArchive))?;
    super::conversations::block_customer(conn, ctx, by, id, None)
}

pub fn from_email(
    conn: &mut DbConn,
    name: Option<&str>,
    email: &str,
    now: NaiveDateTime,
) -> Result<(i64, String), Refusal> {
    Ok(customer::find_or_create_by_email(conn, name, email, now)?)
}
