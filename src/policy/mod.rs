//! Who may do what. Every service, handler, template and API endpoint asks
//! this module for permissions; nothing else compares role names or flags.
//! Each decision carries the rule that made it, so the product can explain
//! itself ("why can this user…?").

use std::fmt;

mod identity;
mod manage;
mod requests;
mod saved_replies;
mod visibility;
pub use identity::*;
pub use manage::*;
pub use requests::*;
pub use saved_replies::*;
pub use visibility::*;

/// The kind of seat a user holds (`users.user_type`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    Hash,
    diesel::deserialize::FromSqlRow,
    diesel::expression::AsExpression,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum UserType {
    FullTime,
    Seasonal,
    Collaborator,
}

impl UserType {
    pub const ALL: [UserType; 3] = [Self::FullTime, Self::Collaborator, Self::Seasonal];

    pub fn key(self) -> &'static str {
        match self {
            Self::FullTime => "full_time",
            Self::Seasonal => "seasonal",
            Self::Collaborator => "collaborator",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|t| t.key() == key)
    }
}

/// Which conversations a user's access setting allows
/// (`users.conversation_access`).
#[derive(
    Clone,
    Copy,
    Debug,
    PartialEq,
    Eq,
    diesel::deserialize::FromSqlRow,
    diesel::expression::AsExpression,
)]
#[diesel(sql_type = diesel::sql_types::Text)]
pub enum ConversationAccess {
    All,
    Teams,
}

impl ConversationAccess {
    pub fn key(self) -> &'static str {
        match self {
            Self::All => "all",
            Self::Teams => "teams",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        match key {
            "all" => Some(Self::All),
            "teams" => Some(Self::Teams),
            _ => None,
        }
    }
}

macro_rules! flags {
    ($( $variant:ident => $key:literal, $area:ident; )*) => {
        /// A permission flag. A role is a set of these.
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        pub enum Flag { $( $variant, )* }

        impl Flag {
            pub const ALL: &'static [Flag] = &[ $( Flag::$variant, )* ];

            /// The stable name stored in the database and used in translations.
            pub fn key(self) -> &'static str {
                match self { $( Flag::$variant => $key, )* }
            }

            pub fn area(self) -> Area {
                match self { $( Flag::$variant => Area::$area, )* }
            }
        }
    };
}

flags! {
    ConversationsViewAll => "conversations.view_all", Conversations;
    ConversationsViewTeam => "conversations.view_team", Conversations;
    ConversationsReply => "conversations.reply", Conversations;
    ConversationsNote => "conversations.note", Conversations;
    ConversationsUpdate => "conversations.update", Conversations;
    ConversationsAssign => "conversations.assign", Conversations;
    ConversationsArchive => "conversations.archive", Conversations;
    ConversationsExport => "conversations.export", Conversations;
    CustomersView => "customers.view", Customers;
    CustomersEdit => "customers.edit", Customers;
    CustomersNote => "customers.note", Customers;
    KbView => "kb.view", KnowledgeBase;
    KbEditDrafts => "kb.edit_drafts", KnowledgeBase;
    KbCreate => "kb.create", KnowledgeBase;
    KbPublish => "kb.publish", KnowledgeBase;
    KbManageCategories => "kb.manage_categories", KnowledgeBase;
    TasksView => "tasks.view", Tasks;
    TasksBeAssigned => "tasks.be_assigned", Tasks;
    TasksCreate => "tasks.create", Tasks;
    TasksComment => "tasks.comment", Tasks;
    ReportsView => "reports.view", Reporting;
    UsersView => "users.view", Users;
    UsersManage => "users.manage", Users;
    UsersManageAdmins => "users.manage_admins", Users;
    UsersManageRoles => "users.manage_roles", Users;
    CollaboratorsGrant => "collaborators.grant", Users;
    TeamsManage => "teams.manage", Teams;
    SettingsOrg => "settings.org", Settings;
    SettingsPlan => "settings.plan", Settings;
    SettingsIntegrations => "settings.integrations", Settings;
    SettingsTokens => "settings.tokens", Settings;
    SettingsAudit => "settings.audit", Settings;
}

impl Flag {
    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.iter().copied().find(|f| f.key() == key)
    }
}

/// The areas flags are grouped by on the roles page.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Area {
    Conversations,
    Customers,
    KnowledgeBase,
    Tasks,
    Reporting,
    Users,
    Teams,
    Settings,
}

impl Area {
    pub const ALL: [Area; 8] = [
        Self::Conversations,
        Self::Customers,
        Self::KnowledgeBase,
        Self::Tasks,
        Self::Reporting,
        Self::Users,
        Self::Teams,
        Self::Settings,
    ];

    pub fn key(self) -> &'static str {
        match self {
            Self::Conversations => "area.conversations",
            Self::Customers => "area.customers",
            Self::KnowledgeBase => "area.kb",
            Self::Tasks => "area.tasks",
            Self::Reporting => "area.reporting",
            Self::Users => "area.users",
            Self::Teams => "area.teams",
            Self::Settings => "area.settings",
        }
    }
}

/// A set of flags, stored as space-separated keys so that adding a flag never
/// reinterprets existing rows.
#[derive(Clone, Copy, Default, PartialEq, Eq)]
pub struct FlagSet(u64);

impl FlagSet {
    pub fn of(flags: &[Flag]) -> Self {
        flags.iter().fold(Self::default(), |set, &f| set.with(f))
    }

    pub fn all() -> Self {
        Self::of(Flag::ALL)
    }

    fn bit(flag: Flag) -> u64 {
        let index = Flag::ALL.iter().position(|&f| f == flag).unwrap_or(0);
        1 << index
    }

    pub fn with(self, flag: Flag) -> Self {
        Self(self.0 | Self::bit(flag))
    }

    pub fn without(self, flag: Flag) -> Self {
        Self(self.0 & !Self::bit(flag))
    }

    pub fn contains(self, flag: Flag) -> bool {
        self.0 & Self::bit(flag) != 0
    }

    pub fn is_subset_of(self, other: FlagSet) -> bool {
        self.0 & !other.0 == 0
    }

    pub fn iter(self) -> impl Iterator<Item = Flag> {
        Flag::ALL.iter().copied().filter(move |&f| self.contains(f))
    }

    /// Unknown keys are ignored (a flag removed in a later version).
    pub fn parse(text: &str) -> Self {
        Self::of(
            &text
                .split_whitespace()
                .filter_map(Flag::parse)
                .collect::<Vec<_>>(),
        )
    }

    pub fn to_text(self) -> String {
        self.iter().map(Flag::key).collect::<Vec<_>>().join(" ")
    }
}

impl fmt::Debug for FlagSet {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.iter().map(Flag::key)).finish()
    }
}

/// The four roles every organisation has.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum BuiltinRole {
    Owner,
    Admin,
    Manager,
    Agent,
}

impl BuiltinRole {
    pub const ALL: [BuiltinRole; 4] = [Self::Owner, Self::Admin, Self::Manager, Self::Agent];

    pub fn key(self) -> &'static str {
        match self {
            Self::Owner => "owner",
            Self::Admin => "admin",
            Self::Manager => "manager",
            Self::Agent => "agent",
        }
    }

    pub fn parse(key: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.key() == key)
    }

    /// The fixed flag sets of SPEC section 1.
    pub fn flags(self) -> FlagSet {
        use Flag::*;
        match self {
            Self::Owner => FlagSet::all(),
            // Everything but the plan; transferring ownership is the owner's alone.
            Self::Admin => FlagSet::all().without(SettingsPlan),
            Self::Manager => FlagSet::of(&[
                ConversationsViewAll,
                ConversationsViewTeam,
                ConversationsReply,
                ConversationsNote,
                ConversationsUpdate,
                ConversationsAssign,
                ConversationsArchive,
                ConversationsExport,
                CustomersView,
                CustomersEdit,
                CustomersNote,
                KbView,
                KbEditDrafts,
                KbCreate,
                KbPublish,
                KbManageCategories,
                TasksView,
                TasksBeAssigned,
                TasksCreate,
                TasksComment,
                ReportsView,
                UsersView,
                UsersManage,
                CollaboratorsGrant,
                TeamsManage,
            ]),
            // `ConversationsViewAll` lets the per-user "conversation access"
            // setting decide between all conversations and their teams'.
            Self::Agent => FlagSet::of(&[
                ConversationsViewAll,
                ConversationsViewTeam,
                ConversationsReply,
                ConversationsNote,
                ConversationsUpdate,
                ConversationsAssign,
                ConversationsArchive,
                CustomersView,
                CustomersEdit,
                CustomersNote,
                KbView,
                KbEditDrafts,
                KbCreate,
                TasksView,
                TasksBeAssigned,
                TasksCreate,
                TasksComment,
            ]),
        }
    }
}

/// The role a full-time or seasonal user holds.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct RoleGrant {
    pub name: String,
    pub builtin: Option<BuiltinRole>,
    pub flags: FlagSet,
}

impl RoleGrant {
    pub fn builtin(role: BuiltinRole) -> Self {
        Self {
            name: role.key().to_string(),
            builtin: Some(role),
            flags: role.flags(),
        }
    }
}

/// The signed-in user as the policy sees them.
#[derive(Clone, Debug)]
pub struct Actor {
    pub user_id: i64,
    pub user_type: UserType,
    /// Always `None` for collaborators.
    pub role: Option<RoleGrant>,
    pub conversation_access: ConversationAccess,
    pub team_ids: Vec<i64>,
    /// Conversations and customers granted to them (collaborators only;
    /// grants in force).
    pub granted: Granted,
}

/// What grants in force add to what a collaborator sees.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Granted {
    pub conversations: Vec<i64>,
    pub customers: Vec<i64>,
}

impl Granted {
    pub fn is_empty(&self) -> bool {
        self.conversations.is_empty() && self.customers.is_empty()
    }
}

impl Actor {
    pub fn is_collaborator(&self) -> bool {
        self.user_type == UserType::Collaborator
    }

    pub fn is_owner(&self) -> bool {
        self.builtin_role() == Some(BuiltinRole::Owner)
    }

    pub fn builtin_role(&self) -> Option<BuiltinRole> {
        self.role.as_ref().and_then(|r| r.builtin)
    }

    /// The identity provider behind the SCIM token, as the policy sees it:
    /// it holds Admin's flags — so it may give any role up to Admin, by the
    /// same rule as everyone (`can_grant`) — and is never the Owner, so the
    /// owner rules refuse it like any admin. It is no user (`user_id` 0
    /// matches nobody).
    pub fn provisioning() -> Self {
        Self {
            user_id: 0,
            user_type: UserType::FullTime,
            role: Some(RoleGrant {
                name: "SCIM provisioning".into(),
                builtin: None,
                flags: BuiltinRole::Admin.flags(),
            }),
            conversation_access: ConversationAccess::All,
            team_ids: Vec::new(),
            granted: Granted::default(),
        }
    }
}

/// Everything a user can attempt. Most actions are guarded by one flag;
/// a few are composite or owner-only.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Action {
    /// Any action a single flag guards.
    Use(Flag),
    /// Search conversations and customers (needs view access to either).
    Search,
    /// Open the Settings area at all.
    EnterSettings,
    /// Hand ownership to another admin.
    TransferOwnership,
}

impl Action {
    /// Every action, for tables and tests.
    pub fn all() -> Vec<Action> {
        let mut all: Vec<Action> = Flag::ALL.iter().map(|&f| Action::Use(f)).collect();
        all.extend([
            Action::Search,
            Action::EnterSettings,
            Action::TransferOwnership,
        ]);
        all
    }
}

/// A change to a knowledge-base article: which flag guards it depends on
/// whether the article is published (public) or still a draft.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ArticleChange {
    Edit,
    Delete,
}

/// The flag that guards `change` on an article in that state: drafts are
/// edited with `kb.edit_drafts` (collaborators too) and deleted with
/// `kb.create`; a published article — what the public reads — needs
/// `kb.publish` for both.
pub fn article_flag(change: ArticleChange, published: bool) -> Flag {
    match (change, published) {
        (_, true) => Flag::KbPublish,
        (ArticleChange::Edit, false) => Flag::KbEditDrafts,
        (ArticleChange::Delete, false) => Flag::KbCreate,
    }
}

/// What a collaborator may do: fixed, never configurable (SPEC section 1).
pub const COLLABORATOR_FLAGS: &[Flag] = &[
    Flag::ConversationsViewAll,
    Flag::ConversationsViewTeam,
    Flag::ConversationsNote,
    Flag::CustomersView,
    Flag::CustomersNote,
    Flag::KbView,
    Flag::KbEditDrafts,
    Flag::TasksView,
    Flag::TasksBeAssigned,
    Flag::TasksComment,
];

/// Flags that open the Settings area.
const SETTINGS_FLAGS: &[Flag] = &[
    Flag::UsersView,
    Flag::UsersManage,
    Flag::UsersManageAdmins,
    Flag::UsersManageRoles,
    Flag::TeamsManage,
    Flag::SettingsOrg,
    Flag::SettingsPlan,
    Flag::SettingsIntegrations,
    Flag::SettingsTokens,
    Flag::SettingsAudit,
];

/// The rule that decided.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Rule {
    /// A fixed collaborator capability allows it.
    CollaboratorCapability(Flag),
    /// Collaborators may never do this.
    CollaboratorNever,
    /// The user's role has the flag.
    RoleHasFlag { role: String, flag: Flag },
    /// The user's role lacks the flag.
    RoleLacksFlag { role: String, flag: Flag },
    /// A full-time or seasonal user without a role can do nothing.
    NoRole,
    /// Only the owner may do this.
    OwnerOnly,
    /// Allowed because one of the underlying flags is allowed.
    Via(Flag),
    /// Denied because none of the underlying flags is allowed.
    NoneOf,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Decision {
    pub allowed: bool,
    pub rule: Rule,
}

impl Decision {
    fn allow(rule: Rule) -> Self {
        Self {
            allowed: true,
            rule,
        }
    }

    fn deny(rule: Rule) -> Self {
        Self {
            allowed: false,
            rule,
        }
    }
}

/// The one question every caller asks.
pub fn can(actor: &Actor, action: Action) -> Decision {
    match action {
        Action::Use(flag) => flag_decision(actor, flag),
        Action::Search => first_allowed(
            actor,
            &[
                Flag::ConversationsViewAll,
                Flag::ConversationsViewTeam,
                Flag::CustomersView,
            ],
        ),
        Action::EnterSettings => first_allowed(actor, SETTINGS_FLAGS),
        Action::TransferOwnership => {
            if actor.is_owner() {
                Decision::allow(Rule::OwnerOnly)
            } else {
                Decision::deny(Rule::OwnerOnly)
            }
        }
    }
}

/// `can(..).allowed` or a `Forbidden` error carrying the rule.
pub fn ensure(actor: &Actor, action: Action) -> Result<(), Denied> {
    let decision = can(actor, action);
    if decision.allowed {
        Ok(())
    } else {
        Err(Denied {
            action,
            rule: decision.rule,
        })
    }
}

/// A refusal, with what was refused and why (logged; never shown raw).
#[derive(Clone, Debug)]
pub struct Denied {
    pub action: Action,
    pub rule: Rule,
}

fn flag_decision(actor: &Actor, flag: Flag) -> Decision {
    if actor.is_collaborator() {
        return if COLLABORATOR_FLAGS.contains(&flag) {
            Decision::allow(Rule::CollaboratorCapability(flag))
        } else {
            Decision::deny(Rule::CollaboratorNever)
        };
    }
    match &actor.role {
        None => Decision::deny(Rule::NoRole),
        Some(role) if role.flags.contains(flag) => Decision::allow(Rule::RoleHasFlag {
            role: role.name.clone(),
            flag,
        }),
        Some(role) => Decision::deny(Rule::RoleLacksFlag {
            role: role.name.clone(),
            flag,
        }),
    }
}

fn first_allowed(actor: &Actor, flags: &[Flag]) -> Decision {
    flags
        .iter()
        .find(|&&f| flag_decision(actor, f).allowed)
        .map(|&f| Decision::allow(Rule::Via(f)))
        .unwrap_or(Decision::deny(Rule::NoneOf))
}

/// Which conversations a user may see; every conversation query filters by it.
#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ConversationScope {
    All,
    /// Their teams' conversations, and those granted to them.
    Limited(Reach),
    None,
}

/// What a limited scope reaches: conversations of these teams, these
/// conversations, and every conversation of these customers.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Reach {
    pub teams: Vec<i64>,
    pub conversations: Vec<i64>,
    pub customers: Vec<i64>,
}

impl Reach {
    /// Their teams' conversations, nothing granted.
    pub fn teams(teams: Vec<i64>) -> Self {
        Self {
            teams,
            ..Self::default()
        }
    }

    pub fn is_empty(&self) -> bool {
        self.teams.is_empty() && self.conversations.is_empty() && self.customers.is_empty()
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum ScopeRule {
    /// View-all permission and conversation access "all".
    AllConversations,
    /// Conversation access is set to "only their teams".
    AccessSetToTeams,
    /// The role may only view its teams' conversations.
    RoleViewsTeamsOnly,
    /// No permission to view conversations.
    NoViewPermission,
}

pub fn conversation_scope(actor: &Actor) -> (ConversationScope, ScopeRule) {
    let view_all = can(actor, Action::Use(Flag::ConversationsViewAll)).allowed;
    let view_team = can(actor, Action::Use(Flag::ConversationsViewTeam)).allowed;
    let teams = || {
        // Grants widen only a collaborator's scope.
        let granted = match actor.is_collaborator() {
            true => actor.granted.clone(),
            false => Granted::default(),
        };
        ConversationScope::Limited(Reach {
            teams: actor.team_ids.clone(),
            conversations: granted.conversations,
            customers: granted.customers,
        })
    };
    match (view_all, view_team, actor.conversation_access) {
        (true, _, ConversationAccess::All) => (ConversationScope::All, ScopeRule::AllConversations),
        (true, _, ConversationAccess::Teams) => (teams(), ScopeRule::AccessSetToTeams),
        (false, true, _) => (teams(), ScopeRule::RoleViewsTeamsOnly),
        (false, false, _) => (ConversationScope::None, ScopeRule::NoViewPermission),
    }
}

/// Whether this reader sees customers' emails and phone numbers in full.
/// The organisation may mask them for collaborators.
pub fn sees_contact_details(actor: &Actor, masking_for_collaborators: bool) -> bool {
    !(masking_for_collaborators && actor.is_collaborator())
}

/// Facts templates need, computed once per request from the policy, so that
/// templates never look at roles or types themselves.
#[derive(Clone, Debug, Default)]
pub struct Permissions {
    pub collaborator_layout: bool,
    pub enter_settings: bool,
    pub org_settings: bool,
    pub view_users: bool,
    pub manage_users: bool,
    pub manage_teams: bool,
    pub manage_roles: bool,
    pub view_audit: bool,
    pub view_conversations: bool,
    pub view_customers: bool,
    pub edit_customers: bool,
    pub note_customers: bool,
    pub view_kb: bool,
    pub view_tasks: bool,
    pub view_reports: bool,
    pub manage_tokens: bool,
    pub manage_integrations: bool,
}

impl Permissions {
    pub fn for_actor(actor: &Actor) -> Self {
        let allowed = |action| can(actor, action).allowed;
        Self {
            collaborator_layout: actor.is_collaborator(),
            enter_settings: allowed(Action::EnterSettings),
            org_settings: allowed(Action::Use(Flag::SettingsOrg)),
            view_users: allowed(Action::Use(Flag::UsersView)),
            manage_users: allowed(Action::Use(Flag::UsersManage)),
            manage_teams: allowed(Action::Use(Flag::TeamsManage)),
            manage_roles: allowed(Action::Use(Flag::UsersManageRoles)),
            view_audit: allowed(Action::Use(Flag::SettingsAudit)),
            view_conversations: conversation_scope(actor).0 != ConversationScope::None,
            view_customers: allowed(Action::Use(Flag::CustomersView)),
            edit_customers: allowed(Action::Use(Flag::CustomersEdit)),
            note_customers: allowed(Action::Use(Flag::CustomersNote)),
            view_kb: allowed(Action::Use(Flag::KbView)),
            view_tasks: allowed(Action::Use(Flag::TasksView)),
            view_reports: allowed(Action::Use(Flag::ReportsView)),
            manage_tokens: allowed(Action::Use(Flag::SettingsTokens)),
            manage_integrations: allowed(Action::Use(Flag::SettingsIntegrations)),
        }
    }
}
