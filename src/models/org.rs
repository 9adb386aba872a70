//! The one organisation row: its settings and token hashes. There is exactly
//! one (`ORG_ID`); tokens are stored only as hashes.

use chrono::NaiveDateTime;
use diesel::prelude::*;

use crate::db::DbConn;
use crate::db::schema::org_settings;

/// The one organisation this deployment serves (single-tenant).
#[derive(Queryable, Clone, Debug)]
pub struct OrgSettings {
    pub id: i64,
    pub name: String,
    pub default_language: String,
    pub timezone: String,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub created_at: NaiveDateTime,
    #[diesel(deserialize_as = crate::db::StoredTime)]
    pub updated_at: NaiveDateTime,
    /// `unlimited`, `full_time_seats` or `fixed`.
    pub collaborator_allowance: String,
    pub collaborator_allowance_fixed: Option<i32>,
    /// Collaborators see customers' emails and phones masked.
    pub mask_contacts_for_collaborators: bool,
    /// New conversations from the contact form land in this team's queue.
    pub intake_team_id: Option<i64>,
    /// SHA-256 of the bearer token of `POST /inbound/email`; none = closed.
    pub inbound_token_hash: Option<String>,
    pub inbound_token_created_at: Option<NaiveDateTime>,
    /// SHA-256 of the SCIM bearer token (Settings > SCIM); none = closed.
    pub scim_token_hash: Option<String>,
    pub scim_token_created_at: Option<NaiveDateTime>,
    /// Who must use a second factor (`policy::TwoFactorRule`).
    pub two_factor_required: String,
    /// Single sign-on with OpenID Connect, as Settings > Security keeps it
    /// (the environment may override it: `sso::Provider::configured`).
    pub sso_issuer: Option<String>,
    pub sso_client_id: Option<String>,
    /// Sealed (`crypto::seal`).
    pub sso_client_secret: Option<String>,
    pub sso_label: Option<String>,
    /// Email domains, comma separated, whose first SSO sign-in creates a
    /// Full-time Agent.
    pub sso_create_domains: String,
    /// Passwords off for everyone but the owner.
    pub sso_only: bool,
    /// Bumped by triggers whenever a name of a person or team changes, or
    /// who can be assigned: the key of each node's copy of the pickers and
    /// (with the conversation's own version) of its rendered timelines.
    pub directory_version: i64,
}

/// The organisation always has id 1.
pub const ORG_ID: i64 = 1;

#[derive(Insertable)]
#[diesel(table_name = org_settings)]
pub struct NewOrgSettings<'a> {
    pub id: i64,
    pub name: &'a str,
    pub default_language: &'a str,
    pub timezone: &'a str,
    pub created_at: NaiveDateTime,
    pub updated_at: NaiveDateTime,
}

/// What Settings > Organisation changes; serialized as the audit log's
/// before and after.
#[derive(AsChangeset, serde::Serialize)]
#[diesel(table_name = org_settings)]
pub struct OrgChanges<'a> {
    pub name: &'a str,
    pub default_language: &'a str,
    pub timezone: &'a str,
    pub collaborator_allowance: &'a str,
    pub collaborator_allowance_fixed: Option<i32>,
    pub mask_contacts_for_collaborators: bool,
    pub intake_team_id: Option<i64>,
    #[serde(skip)]
    pub updated_at: NaiveDateTime,
}

impl OrgSettings {
    /// The organisation's timezone (UTC when the stored name is unknown).
    pub fn tz(&self) -> chrono_tz::Tz {
        self.timezone.parse().unwrap_or(chrono_tz::Tz::UTC)
    }

    /// Today's date where the organisation is: seasonal windows are whole days there.
    pub fn today(&self, now: NaiveDateTime) -> chrono::NaiveDate {
        now.and_utc().with_timezone(&self.tz()).date_naive()
    }

    /// The current settings in the shape of a change (for the audit log).
    pub fn as_changes(&self) -> OrgChanges<'_> {
        OrgChanges {
            name: &self.name,
            default_language: &self.default_language,
            timezone: &self.timezone,
            collaborator_allowance: &self.collaborator_allowance,
            collaborator_allowance_fixed: self.collaborator_allowance_fixed,
            mask_contacts_for_collaborators: self.mask_contacts_for_collaborators,
            intake_team_id: self.intake_team_id,
            updated_at: self.updated_at,
        }
    }

    pub fn find(conn: &mut DbConn) -> QueryResult<Option<OrgSettings>> {
        crate::on_backend!(conn, |c| org_settings::table
            .find(ORG_ID)
            .first(c)
            .optional())
    }

    pub fn create(conn: &mut DbConn, new: &NewOrgSettings) -> QueryResult<()> {
        diesel::insert_into(org_settings::table)
            .values(new)
            .execute(conn)
            .map(|_| ())
    }

    /// Sets (or with `None` removes) the inbound mail token's hash.
    /// Sets (or with `None` removes) the SCIM bearer token's hash.
    pub fn set_scim_token(
        conn: &mut DbConn,
        hash: Option<&str>,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(org_settings::table.find(ORG_ID))
            .set((
                org_settings::scim_token_hash.eq(hash),
                org_settings::scim_token_created_at.eq(hash.map(|_| now)),
                org_settings::updated_at.eq(now),
            ))
            .execute(conn)
            .map(|_| ())
    }

    pub fn set_inbound_token(
        conn: &mut DbConn,
        hash: Option<&str>,
        now: NaiveDateTime,
    ) -> QueryResult<()> {
        diesel::update(org_settings::table.find(ORG_ID))
            .set((
                org_settings::inbound_token_hash.eq(hash),
                org_settings::inbound_token_created_at.eq(hash.map(|_| now)),
            ))
            .execute(conn)
            .map(|_| ())
    }

    pub fn update(conn: &mut DbConn, changes: &OrgChanges) -> QueryResult<()> {
        diesel::update(org_settings::table.find(ORG_ID))
            .set(changes)
            .execute(conn)
            .map(|_| ())
    }
}
