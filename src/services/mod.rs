//! The service layer, below every front door (browser, API, SCIM, CLI,
//! mail): each write is one function here that asks `policy`, validates,
//! writes, and records its audit entry, notifications and webhooks in the
//! caller's transaction; a refusal writes nothing. Nothing here takes a
//! request or `AppState`; the front doors only translate requests into these
//! calls and refusals into their own answers.

pub mod conversations;
pub mod customers;
pub mod demo;
pub mod grants;
pub mod integrations;
pub mod kb;
pub mod messages;
pub mod org;
pub mod profile;
pub mod provisioning;
pub mod requests;
pub mod roles;
pub mod saved_replies;
pub mod security;
pub mod tasks;
pub mod teams;
pub mod user_batch;
pub mod user_form;
pub mod users;

use chrono::NaiveDateTime;

use crate::config::Config;
use crate::i18n::Tr;
use crate::models::audit::AuditActor;
use crate::models::org::OrgSettings;
use crate::policy::{Actor, Denied};

/// Who writes: as the policy judges them and as the audit log names them.
pub struct By<'a> {
    pub actor: &'a Actor,
    pub audit: &'a AuditActor,
}

/// Who writes, where and when, owned, so it moves into a database closure:
/// a front door builds it from its request and hands out the views the
/// service functions take.
pub struct Caller {
    pub actor: Actor,
    /// The display name notifications and revisions carry.
    pub name: String,
    pub audit: AuditActor,
    pub org: OrgSettings,
    pub config: std::sync::Arc<Config>,
    pub now: NaiveDateTime,
}

impl Caller {
    pub fn ctx(&self) -> Ctx<'_> {
        Ctx {
            org: &self.org,
            config: &self.config,
            now: self.now,
        }
    }

    pub fn by(&self) -> By<'_> {
        By {
            actor: &self.actor,
            audit: &self.audit,
        }
    }

    pub fn author(&self) -> messages::Author<'_> {
        messages::Author {
            actor: &self.actor,
            name: &self.name,
        }
    }
}

/// Where and when a write happens.
#[derive(Clone, Copy)]
pub struct Ctx<'a> {
    pub org: &'a OrgSettings,
    pub config: &'a Config,
    pub now: NaiveDateTime,
}

/// What is wrong with one value, independent of the language it is told in.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Problem {
    Required,
    TooLong(usize),
    Email,
    Status,
    Priority,
    /// A snooze needs a time in the future.
    SnoozeTime,
    /// Team-only users open conversations in their own teams only.
    OwnTeam,
    UnknownTeam,
    UnknownAssignee,
    /// Not a domain like example.com.
    Domain(String),
    /// A webhook target resolving to a loopback, link-local or private address.
    PrivateAddress(std::net::IpAddr),
    /// Still used by this many (a role with users).
    InUse(usize),
    /// A reply needs the customer's email address.
    CustomerWithoutEmail,
    Language,
    Timezone,
    /// An area's own rule: its catalog key and its English for the API.
    Rule {
        key: &'static str,
        english: &'static str,
    },
    /// The value names nothing that exists or that the actor can see.
    Unknown {
        key: &'static str,
        english: &'static str,
    },
    /// Another record holds this value (an email, a name).
    Taken {
        key: &'static str,
        english: &'static str,
    },
}

impl Problem {
    /// The catalog key of the message (its parameters, if any, are added
    /// by `message`).
    pub fn key(&self) -> &'static str {
        match self {
            Self::Required => "form.error.required",
            Self::TooLong(_) => "form.error.too_long",
            Self::InUse(_) => "roles.error.in_use",
            Self::Domain(_) => "organizations.error.domain",
            Self::PrivateAddress(_) => "webhooks.error.private",
            Self::Email => "form.error.email",
            Self::Status => "conversation.error.status",
            Self::Priority => "conversation.error.priority",
            Self::SnoozeTime => "conversation.error.snooze",
            Self::OwnTeam => "conversation.error.own_team",
            Self::UnknownTeam => "users.error.unknown_team",
            Self::UnknownAssignee => "users.error.unknown_assignee",
            Self::CustomerWithoutEmail => "conversation.error.no_email",
            Self::Language => "form.error.language",
            Self::Timezone => "form.error.timezone",
            Self::Rule { key, .. } | Self::Unknown { key, .. } | Self::Taken { key, .. } => key,
        }
    }

    /// The message on a form, in the reader's language.
    pub fn message(&self, t: Tr) -> String {
        match self {
            Self::TooLong(max) => t.fmt(self.key(), &[("max", &max.to_string())]),
            Self::InUse(count) => t.fmt(self.key(), &[("count", &count.to_string())]),
            Self::Domain(domain) => t.fmt(self.key(), &[("domain", domain)]),
            Self::PrivateAddress(ip) => t.fmt(self.key(), &[("address", &ip.to_string())]),
            _ => t.get(self.key()).to_string(),
        }
    }

    /// The message in a JSON error (the API speaks English).
    pub fn english(&self) -> String {
        match self {
            Self::Required => "is required".into(),
            Self::TooLong(max) => format!("is longer than {max} characters"),
            Self::InUse(count) => format!("is used by {count}"),
            Self::Domain(domain) => format!("{domain} is not a domain like example.com"),
            Self::PrivateAddress(ip) => format!("resolves to the private address {ip}"),
            Self::Email => "is not an email address".into(),
            Self::Status => "must be open, pending, snoozed or done".into(),
            Self::Priority => "must be low, normal, high or urgent".into(),
            Self::SnoozeTime => "must be a time in the future".into(),
            Self::OwnTeam => "must be one of your teams".into(),
            Self::UnknownTeam => "no such team".into(),
            Self::UnknownAssignee => "no such active agent".into(),
            Self::CustomerWithoutEmail => "the customer has no email address to reply to".into(),
            Self::Language => "is not a supported language".into(),
            Self::Timezone => "is not a known timezone".into(),
            Self::Rule { english, .. }
            | Self::Unknown { english, .. }
            | Self::Taken { english, .. } => (*english).into(),
        }
    }
}

/// Problems by field, all of them at once.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Fields(pub Vec<(&'static str, Problem)>);

impl Fields {
    pub fn add(&mut self, field: &'static str, problem: Problem) {
        self.0.push((field, problem));
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn has(&self, problem: &Problem) -> bool {
        self.0.iter().any(|(_, p)| p == problem)
    }

    /// Text that must be there and not longer than `max` characters.
    pub fn text(&mut self, field: &'static str, value: &str, max: usize) {
        let value = value.trim();
        if value.is_empty() {
            self.add(field, Problem::Required);
        } else if value.chars().count() > max {
            self.add(field, Problem::TooLong(max));
        }
    }

    pub fn email(&mut self, field: &'static str, value: &str) {
        let value = value.trim();
        if value.is_empty() {
            self.add(field, Problem::Required);
        } else if !crate::forms::is_email(value) {
            self.add(field, Problem::Email);
        }
    }

    /// In English, split as the API answers them: values that cannot be
    /// taken (422), values naming nothing (409), values held elsewhere (409).
    pub fn english(&self) -> [Vec<(&'static str, String)>; 3] {
        let mut split = [Vec::new(), Vec::new(), Vec::new()];
        for (field, problem) in &self.0 {
            let class = match problem {
                Problem::UnknownTeam | Problem::UnknownAssignee | Problem::Unknown { .. } => 1,
                Problem::Taken { .. } => 2,
                _ => 0,
            };
            split[class].push((*field, problem.english()));
        }
        split
    }

    /// The messages a form shows beside its fields, in the reader's language.
    pub fn messages(&self, t: Tr) -> crate::forms::FieldErrors {
        let mut errors = crate::forms::FieldErrors::default();
        for (field, problem) in &self.0 {
            errors.add(field, problem.message(t));
        }
        errors
    }

    /// The same problems under the names a form gives its fields.
    pub fn renamed(mut self, names: &[(&str, &'static str)]) -> Self {
        for (field, _) in &mut self.0 {
            if let Some((_, to)) = names.iter().find(|(from, _)| from == field) {
                *field = to;
            }
        }
        self
    }
}

/// Why a write did not happen.
#[derive(Debug)]
pub enum Refusal {
    /// The policy's answer, with the rule that decided.
    Forbidden(Denied),
    /// Values that cannot be taken, name nothing, or are held elsewhere.
    Fields(Fields),
    /// A rule of the policy about this record refuses it (a role above the
    /// actor's own, the owner): the rule's catalog key.
    Rule(&'static str),
    /// The record the write is about does not exist (or is not visible).
    NotFound,
    Database(diesel::result::Error),
}

impl From<diesel::result::Error> for Refusal {
    fn from(e: diesel::result::Error) -> Self {
        Self::Database(e)
    }
}

impl From<Denied> for Refusal {
    fn from(d: Denied) -> Self {
        Self::Forbidden(d)
    }
}

/// For front doors that show no form: field problems become a 400 page
/// (forms map `Refusal::Fields` to their own messages before this).
impl From<Refusal> for crate::error::AppError {
    fn from(refusal: Refusal) -> Self {
        match refusal {
            Refusal::Forbidden(denied) => denied.into(),
            Refusal::Rule(key) => Self::Forbidden(key.to_string()),
            Refusal::NotFound => Self::NotFound,
            Refusal::Database(e) => e.into(),
            Refusal::Fields(fields) => Self::BadRequest(
                fields
                    .0
                    .iter()
                    .map(|(field, problem)| format!("{field}: {}", problem.english()))
                    .collect::<Vec<_>>()
                    .join("; "),
            ),
        }
    }
}

/// `Refusal::Fields` when there is any problem.
pub fn check(fields: Fields) -> Result<(), Refusal> {
    if fields.is_empty() {
        Ok(())
    } else {
        Err(Refusal::Fields(fields))
    }
}
