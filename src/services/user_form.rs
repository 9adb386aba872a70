//! The add/edit user form: parsing, validation into `admin::UserInput`, and
//! the choices it offers (roles the actor may grant, teams).

use chrono::NaiveDate;

use crate::forms::{Check, FieldErrors};
use crate::i18n::{Lang, Tr};
use crate::models::role::Role;
use crate::models::team::Team;
use crate::policy::{self, Actor, ConversationAccess, ManageRule, UserType};
use crate::services::users::UserInput;

/// The form as typed, kept verbatim so an error page shows it back.
#[derive(Clone, Debug, Default)]
pub struct UserForm {
    pub user_type: String,
    pub name: String,
    pub email: String,
    pub language: String,
    pub timezone: String,
    pub role_id: String,
    pub teams: Vec<String>,
    pub access: String,
    pub starts: String,
    pub ends: String,
}

impl UserForm {
    pub fn from_pairs(pairs: Vec<(String, String)>) -> Self {
        let mut form = Self::default();
        for (key, value) in pairs {
            match key.as_str() {
                "user_type" => form.user_type = value,
                "name" => form.name = value,
                "email" => form.email = value,
                "language" => form.language = value,
                "timezone" => form.timezone = value,
                "role_id" => form.role_id = value,
                "teams" => form.teams.push(value),
                "access" => form.access = value,
                "starts" => form.starts = value,
                "ends" => form.ends = value,
                _ => {}
            }
        }
        form
    }

    pub fn new_user(default_role: Option<i64>) -> Self {
        Self {
            user_type: UserType::FullTime.key().into(),
            role_id: default_role.map(|id| id.to_string()).unwrap_or_default(),
            access: ConversationAccess::All.key().into(),
            ..Self::default()
        }
    }

    pub fn has_team(&self, id: &i64) -> bool {
        self.teams.iter().any(|t| t == &id.to_string())
    }

    pub fn is_type(&self, key: &str) -> bool {
        self.user_type == key
    }

    pub fn is_role(&self, id: &i64) -> bool {
        self.role_id == id.to_string()
    }
}

/// A role the form offers.
pub struct RoleOption {
    pub id: i64,
    pub label: String,
    pub grant: policy::RoleGrant,
}

pub fn role_label(role: &Role, t: Tr) -> String {
    if role.builtin {
        t.get(&format!("role.{}", role.key)).to_string()
    } else {
        role.name.clone()
    }
}

/// Roles the actor may give (never Owner).
pub fn grantable_roles(actor: &Actor, roles: &[Role], t: Tr) -> Vec<RoleOption> {
    roles
        .iter()
        .map(|r| RoleOption {
            id: r.id,
            label: role_label(r, t),
            grant: r.grant(),
        })
        .filter(|o| policy::can_grant(actor, UserType::FullTime, Some(&o.grant)).0)
        .collect()
}

fn parse_date(text: &str) -> Option<NaiveDate> {
    NaiveDate::parse_from_str(text.trim(), "%Y-%m-%d").ok()
}

/// Validates the form. `roles` and `teams` are all that exist; the policy
/// decides which role the actor may give.
pub fn validate(
    form: &UserForm,
    actor: &Actor,
    roles: &[Role],
    teams: &[Team],
    t: Tr,
) -> Result<UserInput, FieldErrors> {
    let mut errors = FieldErrors::default();
    let mut check = Check {
        t,
        errors: &mut errors,
    };
    check.required("name", &form.name, super::users::MAX_NAME_CHARS);
    check.email("email", &form.email);
    let language = match form.language.trim() {
        "" => None,
        code => {
            check.language("language", code);
            Lang::parse(code)
        }
    };
    let timezone = match form.timezone.trim() {
        "" => None,
        tz => {
            check.timezone("timezone", tz);
            Some(tz.to_string())
        }
    };
    let user_type = UserType::parse(&form.user_type);
    if user_type.is_none() {
        errors.add("user_type", t.get("users.error.type"));
    }
    let user_type = user_type.unwrap_or(UserType::FullTime);
    let role = form
        .role_id
        .trim()
        .parse::<i64>()
        .ok()
        .and_then(|id| roles.iter().find(|r| r.id == id));
    match (user_type, role, form.role_id.trim().is_empty()) {
        // Collaborators hold no role: whatever the (hidden) role field
        // says is ignored, as a browser without scripts still sends it.
        (UserType::Collaborator, _, _) => {}
        (_, None, true) => errors.add("role_id", t.get("users.error.role_required")),
        (_, None, false) => errors.add("role_id", t.get("users.error.unknown_role")),
        (_, Some(role), _) => {
            let (allowed, rule) = policy::can_grant(actor, user_type, Some(&role.grant()));
            if !allowed {
                let message = match rule {
                    ManageRule::OwnerProtected => t.get("users.error.owner_role"),
                    _ => t.get("users.error.role_above_yours"),
                };
                errors.add("role_id", message);
            }
        }
    }
    if user_type == UserType::Collaborator && !policy::can_grant(actor, user_type, None).0 {
        errors.add("user_type", t.get("users.error.role_above_yours"));
    }
    let mut team_ids = Vec::new();
    for text in &form.teams {
        match text
            .parse::<i64>()
            .ok()
            .filter(|id| teams.iter().any(|t| t.id == *id))
        {
            Some(id) if !team_ids.contains(&id) => team_ids.push(id),
            Some(_) => {}
            None => errors.add("teams", t.get("users.error.unknown_team")),
        }
    }
    let access = ConversationAccess::parse(&form.access);
    if access.is_none() {
        errors.add("access", t.get("users.error.access"));
    }
    let (mut starts, mut ends) = (None, None);
    if user_type == UserType::Seasonal {
        starts = parse_date(&form.starts);
        ends = parse_date(&form.ends);
        if starts.is_none() {
            errors.add("starts", t.get("users.error.date"));
        }
        if ends.is_none() {
            errors.add("ends", t.get("users.error.date"));
        }
        if let (Some(s), Some(e)) = (starts, ends)
            && e < s
        {
            errors.add("ends", t.get("users.error.window_order"));
        }
    }
    if !errors.is_empty() {
        return Err(errors);
    }
    Ok(UserInput {
        user_type,
        name: form.name.trim().to_string(),
        email: form.email.trim().to_string(),
        language,
        timezone,
        role_id: role
            .map(|r| r.id)
            .filter(|_| user_type != UserType::Collaborator),
        team_ids,
        access: access.unwrap_or(ConversationAccess::All),
        starts,
        ends,
    })
}
