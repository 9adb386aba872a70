//! Customers and their organizations, with private notes on both.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::schema::{conversations, customers, organizations, profile_notes, users};
use crate::db::{DbConn, contains_pattern, lower};
use crate::policy::ConversationScope;

#[derive(Queryable, Clone, Debug)]
pub struct Customer {
    pub id: i64,
    pub name: String,
    pub email: Option<String>,
    pub phone: Option<String>,
    pub organization_id: Option<i64>,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
    /// Marked as spam: their mail goes straight to Spam.
    #[diesel(deserialize_as = crate::db::OptionalStoredTime)]
    pub blocked_at: Option<NaiveDateTime>,
}

#[derive(Queryable, Clone, Debug)]
pub struct Organization {
    pub id: i64,
    pub name: String,
    /// Email domains, space-separated, lower-case.
    pub domains: String,
    pub created_at: NaiveDateTime,
    pub updated_at: Option<NaiveDateTime>,
}

impl Organization {
    pub fn domain_list(&self) -> Vec<&str> {
        self.domains.split_whitespace().collect()
    }
}

/// A customer with their organization's name.
pub type CustomerWithOrg = (Customer, Option<String>);

/// Which of customers' fields a form sets.
pub struct CustomerFields<'a> {
    pub name: &'a str,
    pub email: Option<&'a str>,
    pub phone: Option<&'a str>,
    pub organization_id: Option<i64>,
}

/// Normalizes a list of domains typed by a person ("Acme.com, acme.io").
pub fn parse_domains(text: &str) -> Vec<String> {
    let mut domains: Vec<String> = text
        .split([',', ' ', ';', '\n'])
        .map(|d| d.trim().trim_start_matches('@').to_lowercase())
        .filter(|d| !d.is_empty())
        .collect();
    domains.dedup();
    domains
}

pub fn valid_domain(domain: &str) -> bool {
    domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && domain
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || c == '.' || c == '-')
}

/// The organization whose domains include this email's domain.
pub fn organization_for_email(conn: &mut DbConn, email: &str) -> QueryResult<Option<i64>> {
    let Some((_, domain)) = email.rsplit_once('@') else {
        return Ok(None);
    };
    let domain = domain.to_lowercase();
    // Domains are stored space-separated: match a whole word.
    let candidates: Vec<Organization> = organizations::table
        .filter(organizations::domains.like(format!("%{}%", domain.replace(['%', '_'], ""))))
        .order(organizations::id)
        .load(conn)?;
    Ok(candidates
        .into_iter()
        .find(|o| o.domain_list().contains(&domain.as_str()))
        .map(|o| o.id))
}

pub fn find(conn: &mut DbConn, id: i64) -> QueryResult<Option<Customer>> {
    crate::on_backend!(conn, |c| customers::table.find(id).first(c).optional())
}

/// Blocks the customer from `since`, or unblocks them (`None`).
pub fn set_blocked(conn: &mut DbConn, id: i64, since: Option<NaiveDateTime>) -> QueryResult<()> {
    diesel::update(customers::table.find(id))
        .set(customers::blocked_at.eq(since))
        .execute(conn)
        .map(|_| ())
}

/// Whether the customer's mail goes straight to Spam.
pub fn is_blocked(conn: &mut DbConn, id: i64) -> QueryResult<bool> {
    customers::table
        .find(id)
        .select(customers::blocked_at.is_not_null())
        .first(conn)
        .optional()
        .map(|b| b.unwrap_or(false))
}

pub fn email_taken(conn: &mut DbConn, email: &str, except: Option<i64>) -> QueryResult<bool> {
    let mut query = customers::table
        .filter(customers::email.eq(email))
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(customers::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

pub fn create(conn: &mut DbConn, fields: &CustomerFields, now: NaiveDateTime) -> QueryResult<i64> {
    diesel::insert_into(customers::table)
        .values((
            customers::name.eq(fields.name),
            customers::email.eq(fields.email),
            customers::phone.eq(fields.phone),
            customers::organization_id.eq(fields.organization_id),
            customers::created_at.eq(now),
            customers::updated_at.eq(now),
        ))
        .returning(customers::id)
        .get_result(conn)
}

pub fn update(
    conn: &mut DbConn,
    id: i64,
    fields: &CustomerFields,
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(customers::table.find(id))
        .set((
            customers::name.eq(fields.name),
            customers::email.eq(fields.email),
            customers::phone.eq(fields.phone),
            customers::organization_id.eq(fields.organization_id),
            customers::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// A page of customers by name; `search` matches the name, and the email
/// too when `search_emails` (readers who see masked emails search names
/// only, so a search cannot reveal an address).
pub fn list(
    conn: &mut DbConn,
    search: Option<&str>,
    search_emails: bool,
    after: Option<(String, i64)>,
    limit: i64,
) -> QueryResult<(Vec<CustomerWithOrg>, bool)> {
    let mut query = customers::table
        .left_join(organizations::table)
        .select((customers::all_columns, organizations::name.nullable()))
        .into_boxed();
    let mut by_trigrams = false;
    if let Some(text) = search.filter(|s| !s.trim().is_empty()) {
        // SQLite: only the trigram index's candidates are read (the LIKE
        // below still decides), for text of three characters or more.
        let text = text.trim();
        by_trigrams = text.chars().count() >= 3;
        if matches!(conn, DbConn::Sqlite(_)) && by_trigrams {
            let columns = if search_emails { "" } else { "name : " };
            let phrase = format!("{columns}\"{}\"", text.replace('"', "\"\""));
            query = query.filter(
                diesel::dsl::sql::<diesel::sql_types::Bool>(
                    "customers.id IN (SELECT rowid FROM customer_fts WHERE customer_fts MATCH ",
                )
                .bind::<diesel::sql_types::Text, _>(phrase)
                .sql(")"),
            );
        }
        let pattern = contains_pattern(text);
        query = if search_emails {
            query.filter(
                lower(customers::name)
                    .like(pattern.clone())
                    .escape('\\')
                    .or(customers::email.like(pattern).escape('\\')),
            )
        } else {
            query.filter(lower(customers::name).like(pattern).escape('\\'))
        };
    }
    if let Some((name, id)) = after {
        query = query.filter(
            customers::name
                .gt(name.clone())
                .or(customers::name.eq(name).and(customers::id.gt(id))),
        );
    }
    // With the trigram indexes' few candidates, sorting them is cheap; a
    // plan that walks the name index instead reads every customer when
    // nothing matches — PostgreSQL's generic plan for the prepared
    // statement, which cannot see the pattern, chose that (7 ms at 10,000
    // customers). Sorting by `name || ''` leaves it no index to walk.
    query = if by_trigrams {
        query.order((customers::name.concat(""), customers::id))
    } else {
        query.order((customers::name, customers::id))
    };
    let mut rows: Vec<CustomerWithOrg> = query.limit(limit + 1).load(conn)?;
    let more = rows.len() as i64 > limit;
    rows.truncate(limit as usize);
    Ok((rows, more))
}

pub fn find_organization(conn: &mut DbConn, id: i64) -> QueryResult<Option<Organization>> {
    organizations::table.find(id).first(conn).optional()
}

pub fn all_organizations(conn: &mut DbConn) -> QueryResult<Vec<(i64, String)>> {
    organizations::table
        .select((organizations::id, organizations::name))
        .order(organizations::name)
        .load(conn)
}

/// Organizations by name with their customer counts (two queries).
pub fn list_organizations(
    conn: &mut DbConn,
    search: Option<&str>,
) -> QueryResult<Vec<(Organization, i64)>> {
    let mut query = organizations::table.into_boxed();
    if let Some(text) = search.filter(|s| !s.trim().is_empty()) {
        let pattern = contains_pattern(text);
        query = query.filter(
            lower(organizations::name)
                .like(pattern.clone())
                .escape('\\')
                .or(organizations::domains.like(pattern).escape('\\')),
        );
    }
    let orgs: Vec<Organization> = query
        .order((organizations::name, organizations::id))
        .load(conn)?;
    let ids: Vec<i64> = orgs.iter().map(|o| o.id).collect();
    let counts: Vec<(Option<i64>, i64)> = customers::table
        .filter(customers::organization_id.eq_any(&ids))
        .group_by(customers::organization_id)
        .select((
            customers::organization_id,
            diesel::dsl::count(customers::id),
        ))
        .load(conn)?;
    let counts: std::collections::HashMap<i64, i64> = counts
        .into_iter()
        .filter_map(|(id, n)| id.map(|id| (id, n)))
        .collect();
    Ok(orgs
        .into_iter()
        .map(|o| {
            let n = counts.get(&o.id).copied().unwrap_or(0);
            (o, n)
        })
        .collect())
}

pub fn organization_name_taken(
    conn: &mut DbConn,
    name: &str,
    except: Option<i64>,
) -> QueryResult<bool> {
    let mut query = organizations::table
        .filter(lower(organizations::name).eq(name.trim().to_lowercase()))
        .into_boxed();
    if let Some(id) = except {
        query = query.filter(organizations::id.ne(id));
    }
    Ok(query.count().get_result::<i64>(conn)? > 0)
}

pub fn create_organization(
    conn: &mut DbConn,
    name: &str,
    domains: &[String],
    now: NaiveDateTime,
) -> QueryResult<i64> {
    diesel::insert_into(organizations::table)
        .values((
            organizations::name.eq(name.trim()),
            organizations::domains.eq(domains.join(" ")),
            organizations::created_at.eq(now),
            organizations::updated_at.eq(now),
        ))
        .returning(organizations::id)
        .get_result(conn)
}

pub fn update_organization(
    conn: &mut DbConn,
    id: i64,
    name: &str,
    domains: &[String],
    now: NaiveDateTime,
) -> QueryResult<()> {
    diesel::update(organizations::table.find(id))
        .set((
            organizations::name.eq(name.trim()),
            organizations::domains.eq(domains.join(" ")),
            organizations::updated_at.eq(now),
        ))
        .execute(conn)
        .map(|_| ())
}

/// Customers without an organization whose email matches one of `domains`
/// join it (when an organization gains a domain).
pub fn adopt_by_domain(
    conn: &mut DbConn,
    organization_id: i64,
    domains: &[String],
) -> QueryResult<usize> {
    let mut adopted = 0;
    for domain in domains {
        adopted += diesel::update(
            customers::table
                .filter(customers::organization_id.is_null())
                .filter(
                    lower(customers::email.assume_not_null())
                        .like(format!("%@{}", domain.replace(['%', '_'], ""))),
                ),
        )
        .set(customers::organization_id.eq(organization_id))
        .execute(conn)?;
    }
    Ok(adopted)
}

pub fn members(conn: &mut DbConn, organization_id: i64) -> QueryResult<Vec<Customer>> {
    customers::table
        .filter(customers::organization_id.eq(organization_id))
        .order((customers::name, customers::id))
        .limit(500)
        .load(conn)
}

/// A conversation row for a profile page.
#[derive(Queryable, Clone, Debug)]
pub struct ConversationLine {
    pub id: i64,
    pub subject: String,
    pub status: String,
    pub last_activity_at: NaiveDateTime,
}

/// The newest conversations of these customers that the reader may see:
/// the scope is applied in SQL.
pub fn visible_conversations(
    conn: &mut DbConn,
    scope: &ConversationScope,
    customer_ids: &[i64],
    limit: i64,
) -> QueryResult<Vec<ConversationLine>> {
    let mut query = conversations::table
        .filter(conversations::customer_id.eq_any(customer_ids))
        .filter(conversations::folder.is_null())
        .select((
            conversations::id,
            conversations::subject,
            conversations::status,
            conversations::last_activity_at,
        ))
        .into_boxed();
    query = match scope {
        ConversationScope::All => query,
        ConversationScope::Limited(reach) => {
            crate::models::conversation::within_reach!(query, reach)
        }
        ConversationScope::None => return Ok(Vec::new()),
    };
    query
        .order((
            conversations::last_activity_at.desc(),
            conversations::id.desc(),
        ))
        .limit(limit)
        .load(conn)
}

/// A note with its author's name.
#[derive(Queryable, Clone, Debug)]
pub struct NoteLine {
    pub id: i64,
    pub body: String,
    pub body_html: Option<String>,
    pub created_at: NaiveDateTime,
    pub author_name: String,
    pub author_type: crate::policy::UserType,
}

#[derive(Clone, Copy, Debug)]
pub enum NoteTarget {
    Customer(i64),
    Organization(i64),
}

pub fn notes(conn: &mut DbConn, target: &NoteTarget) -> QueryResult<Vec<NoteLine>> {
    let query = profile_notes::table
        .inner_join(users::table)
        .select((
            profile_notes::id,
            profile_notes::body,
            profile_notes::body_html,
            profile_notes::created_at,
            users::name,
            users::user_type,
        ))
        .order((profile_notes::created_at.desc(), profile_notes::id.desc()))
        .limit(200)
        .into_boxed();
    match target {
        NoteTarget::Customer(id) => query.filter(profile_notes::customer_id.eq(*id)).load(conn),
        NoteTarget::Organization(id) => query
            .filter(profile_notes::organization_id.eq(*id))
            .load(conn),
    }
}

pub fn add_note(
    conn: &mut DbConn,
    target: &NoteTarget,
    author_id: i64,
    body: &str,
    now: NaiveDateTime,
) -> QueryResult<i64> {
    let (customer, organization) = match target {
        NoteTarget::Customer(id) => (Some(*id), None),
        NoteTarget::Organization(id) => (None, Some(*id)),
    };
    diesel::insert_into(profile_notes::table)
        .values((
            profile_notes::customer_id.eq(customer),
            profile_notes::organization_id.eq(organization),
            profile_notes::author_id.eq(author_id),
            profile_notes::body.eq(body),
            profile_notes::body_html.eq(crate::markdown::for_storage(body)),
            profile_notes::created_at.eq(now),
        ))
        .returning(profile_notes::id)
        .get_result(conn)
}

/// The customer with this email, or a new one (joining an organization by
/// domain). Returns the id.
/// The customer with this address, or a new one. Without a `name` (or an
/// empty one) the name is derived from the address — its local part, or,
/// while contact details are masked for collaborators, the masked address, so
/// the name never shows what the mask hides.
pub fn find_or_create_by_email(
    conn: &mut DbConn,
    name: Option<&str>,
    email: &str,
    now: NaiveDateTime,
) -> QueryResult<(i64, String)> {
    let existing: Option<(i64, String)> = customers::table
        .filter(customers::email.eq(email))
        .select((customers::id, customers::name))
        .first(conn)
        .optional()?;
    if let Some(found) = existing {
        return Ok(found);
    }
    let organization_id = organization_for_email(conn, email)?;
    let derived;
    let name = match name.map(str::trim).filter(|n| !n.is_empty()) {
        Some(name) => name,
        None => {
            let masked = crate::models::org::OrgSettings::find(conn)?
                .is_some_and(|o| o.mask_contacts_for_collaborators);
            derived = if masked {
                crate::privacy::mask_email(email)
            } else {
                email.split('@').next().unwrap_or(email).to_string()
            };
            &derived
        }
    };
    let id = create(
        conn,
        &CustomerFields {
            name,
            email: Some(email),
            phone: None,
            organization_id,
        },
        now,
    )?;
    Ok((id, name.to_string()))
}
