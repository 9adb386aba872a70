//! The policy as a table: every built-in role and the collaborator type
//! against every action. Columns: Owner, Admin, Manager, Agent, Collaborator.

use confer::policy::{
    Action, Actor, BuiltinRole, ConversationAccess, ConversationScope, Flag, FlagSet, RoleGrant,
    Rule, ScopeRule, UserType, can, conversation_scope,
};

fn actor(role: Option<BuiltinRole>) -> Actor {
    Actor {
        user_id: 7,
        user_type: if role.is_some() {
            UserType::FullTime
        } else {
            UserType::Collaborator
        },
        role: role.map(RoleGrant::builtin),
        conversation_access: ConversationAccess::All,
        team_ids: vec![1, 2],
    }
}

const Y: bool = true;
const N: bool = false;

/// (action, [owner, admin, manager, agent, collaborator])
fn expected() -> Vec<(Action, [bool; 5])> {
    use Flag::*;
    let u = Action::Use;
    vec![
        (u(ConversationsViewAll), [Y, Y, Y, Y, Y]),
        (u(ConversationsViewTeam), [Y, Y, Y, Y, Y]),
        (u(ConversationsReply), [Y, Y, Y, Y, N]),
        (u(ConversationsNote), [Y, Y, Y, Y, Y]),
        (u(ConversationsUpdate), [Y, Y, Y, Y, N]),
        (u(ConversationsAssign), [Y, Y, Y, Y, N]),
        (u(ConversationsArchive), [Y, Y, Y, Y, N]),
        (u(ConversationsExport), [Y, Y, Y, N, N]),
        (u(CustomersView), [Y, Y, Y, Y, Y]),
        (u(CustomersEdit), [Y, Y, Y, Y, N]),
        (u(CustomersNote), [Y, Y, Y, Y, Y]),
        (u(KbView), [Y, Y, Y, Y, Y]),
        (u(KbEditDrafts), [Y, Y, Y, Y, Y]),
        (u(KbCreate), [Y, Y, Y, Y, N]),
        (u(KbPublish), [Y, Y, Y, N, N]),
        (u(KbManageCategories), [Y, Y, Y, N, N]),
        (u(TasksView), [Y, Y, Y, Y, Y]),
        (u(TasksBeAssigned), [Y, Y, Y, Y, Y]),
        (u(TasksCreate), [Y, Y, Y, Y, N]),
        (u(TasksComment), [Y, Y, Y, Y, Y]),
        (u(ReportsView), [Y, Y, Y, N, N]),
        (u(UsersView), [Y, Y, Y, N, N]),
        (u(UsersManage), [Y, Y, Y, N, N]),
        (u(UsersManageAdmins), [Y, Y, N, N, N]),
        (u(UsersManageRoles), [Y, Y, N, N, N]),
        (u(TeamsManage), [Y, Y, Y, N, N]),
        (u(SettingsOrg), [Y, Y, N, N, N]),
        (u(SettingsPlan), [Y, N, N, N, N]),
        (u(SettingsIntegrations), [Y, Y, N, N, N]),
        (u(SettingsTokens), [Y, Y, N, N, N]),
        (u(SettingsAudit), [Y, Y, N, N, N]),
        (Action::Search, [Y, Y, Y, Y, Y]),
        (Action::EnterSettings, [Y, Y, Y, N, N]),
        (Action::TransferOwnership, [Y, N, N, N, N]),
    ]
}

#[test]
fn every_role_against_every_action() {
    let table = expected();
    assert_eq!(
        table.len(),
        Action::all().len(),
        "the table must cover every action"
    );
    let actors = [
        ("owner", actor(Some(BuiltinRole::Owner))),
        ("admin", actor(Some(BuiltinRole::Admin))),
        ("manager", actor(Some(BuiltinRole::Manager))),
        ("agent", actor(Some(BuiltinRole::Agent))),
        ("collaborator", actor(None)),
    ];
    let mut wrong = Vec::new();
    for (action, row) in &table {
        for ((name, actor), &allowed) in actors.iter().zip(row) {
            let decision = can(actor, *action);
            if decision.allowed != allowed {
                wrong.push(format!("{name} {action:?}: got {decision:?}"));
            }
        }
    }
    assert!(
        wrong.is_empty(),
        "policy differs from the table:\n{}",
        wrong.join("\n")
    );
}

#[test]
fn decisions_name_their_rule() {
    let collaborator = actor(None);
    assert_eq!(
        can(&collaborator, Action::Use(Flag::ConversationsReply)).rule,
        Rule::CollaboratorNever
    );
    assert_eq!(
        can(&collaborator, Action::Use(Flag::ConversationsNote)).rule,
        Rule::CollaboratorCapability(Flag::ConversationsNote)
    );
    let agent = actor(Some(BuiltinRole::Agent));
    assert_eq!(
        can(&agent, Action::Use(Flag::ReportsView)).rule,
        Rule::RoleLacksFlag {
            role: "agent".into(),
            flag: Flag::ReportsView
        }
    );
    let admin = actor(Some(BuiltinRole::Admin));
    assert_eq!(can(&admin, Action::TransferOwnership).rule, Rule::OwnerOnly);
}

#[test]
fn a_collaborator_never_gains_a_role_even_if_one_is_attached() {
    let mut collaborator = actor(None);
    collaborator.role = Some(RoleGrant::builtin(BuiltinRole::Admin));
    assert!(!can(&collaborator, Action::Use(Flag::ConversationsReply)).allowed);
    assert!(!can(&collaborator, Action::EnterSettings).allowed);
}

#[test]
fn custom_roles_get_exactly_their_flags_and_no_role_gets_nothing() {
    let mut custom = actor(Some(BuiltinRole::Agent));
    custom.role = Some(RoleGrant {
        name: "Billing specialist".into(),
        builtin: None,
        flags: FlagSet::of(&[Flag::ConversationsViewTeam, Flag::ReportsView]),
    });
    assert!(can(&custom, Action::Use(Flag::ReportsView)).allowed);
    assert!(!can(&custom, Action::Use(Flag::ConversationsReply)).allowed);
    assert_eq!(
        conversation_scope(&custom),
        (
            ConversationScope::Teams(vec![1, 2]),
            ScopeRule::RoleViewsTeamsOnly
        )
    );
    let mut roleless = actor(Some(BuiltinRole::Agent));
    roleless.role = None;
    assert_eq!(can(&roleless, Action::Use(Flag::KbView)).rule, Rule::NoRole);
    assert_eq!(conversation_scope(&roleless).0, ConversationScope::None);
}

#[test]
fn conversation_access_narrows_the_scope() {
    let mut collaborator = actor(None);
    assert_eq!(conversation_scope(&collaborator).0, ConversationScope::All);
    collaborator.conversation_access = ConversationAccess::Teams;
    assert_eq!(
        conversation_scope(&collaborator),
        (
            ConversationScope::Teams(vec![1, 2]),
            ScopeRule::AccessSetToTeams
        )
    );
}

#[test]
fn flag_sets_round_trip_through_text() {
    let set = FlagSet::of(&[Flag::KbView, Flag::SettingsAudit]);
    assert_eq!(set.to_text(), "kb.view settings.audit");
    assert_eq!(FlagSet::parse("settings.audit kb.view unknown.flag"), set);
    assert!(
        BuiltinRole::Manager
            .flags()
            .is_subset_of(BuiltinRole::Admin.flags())
    );
    assert!(
        BuiltinRole::Admin
            .flags()
            .is_subset_of(BuiltinRole::Owner.flags())
    );
}

fn custom(name: &str, flags: &[Flag]) -> RoleGrant {
    RoleGrant {
        name: name.into(),
        builtin: None,
        flags: FlagSet::of(flags),
    }
}

fn holding(role: RoleGrant) -> Actor {
    let mut a = actor(Some(BuiltinRole::Agent));
    a.role = Some(role);
    a
}

/// The "Lead" of issue 14: users.view, users.manage_roles, conversations.view_all.
fn lead() -> RoleGrant {
    custom(
        "Lead",
        &[
            Flag::UsersView,
            Flag::UsersManageRoles,
            Flag::ConversationsViewAll,
        ],
    )
}

#[test]
fn role_definitions_never_exceed_the_editors_own_flags() {
    use confer::policy::{RoleChange, RoleRule, can_change_role};
    let owner = actor(Some(BuiltinRole::Owner));
    let admin = actor(Some(BuiltinRole::Admin));
    let manager = actor(Some(BuiltinRole::Manager));
    let lead_actor = holding(lead());
    let lead_role = lead();
    let all_but_plan = BuiltinRole::Admin.flags();
    let small = custom("Viewer", &[Flag::UsersView]);
    let org = custom("Org", &[Flag::SettingsOrg]);
    let agent = RoleGrant::builtin(BuiltinRole::Agent);
    let owner_role = RoleGrant::builtin(BuiltinRole::Owner);
    let admin_role = RoleGrant::builtin(BuiltinRole::Admin);
    let table: Vec<(&str, &Actor, RoleChange, bool, RoleRule)> = vec![
        (
            "owner creates all but plan",
            &owner,
            RoleChange::Create {
                flags: all_but_plan,
            },
            true,
            RoleRule::WithinYourFlags,
        ),
        (
            "owner creates the plan",
            &owner,
            RoleChange::Create {
                flags: FlagSet::of(&[Flag::SettingsPlan]),
            },
            false,
            RoleRule::FlagsAboveYours,
        ),
        (
            "admin creates all but plan",
            &admin,
            RoleChange::Create {
                flags: all_but_plan,
            },
            true,
            RoleRule::WithinYourFlags,
        ),
        (
            "manager cannot manage roles",
            &manager,
            RoleChange::Create {
                flags: FlagSet::of(&[Flag::KbView]),
            },
            false,
            RoleRule::CannotManageRoles,
        ),
        (
            "lead widens its own role",
            &lead_actor,
            RoleChange::Edit {
                role: &lead_role,
                flags: all_but_plan,
            },
            false,
            RoleRule::FlagsAboveYours,
        ),
        (
            "lead adds one flag to its role",
            &lead_actor,
            RoleChange::Edit {
                role: &lead_role,
                flags: lead().flags.with(Flag::SettingsAudit),
            },
            false,
            RoleRule::FlagsAboveYours,
        ),
        (
            "lead narrows its own role",
            &lead_actor,
            RoleChange::Edit {
                role: &lead_role,
                flags: FlagSet::of(&[Flag::UsersView, Flag::UsersManageRoles]),
            },
            true,
            RoleRule::WithinYourFlags,
        ),
        (
            "lead creates within",
            &lead_actor,
            RoleChange::Create {
                flags: FlagSet::of(&[Flag::UsersView]),
            },
            true,
            RoleRule::WithinYourFlags,
        ),
        (
            "lead creates above",
            &lead_actor,
            RoleChange::Create {
                flags: FlagSet::of(&[Flag::ConversationsReply]),
            },
            false,
            RoleRule::FlagsAboveYours,
        ),
        (
            "lead edits a role above, even to narrow it",
            &lead_actor,
            RoleChange::Edit {
                role: &org,
                flags: FlagSet::of(&[Flag::UsersView]),
            },
            false,
            RoleRule::RoleAboveYours,
        ),
        (
            "admin edits a built-in",
            &admin,
            RoleChange::Edit {
                role: &agent,
                flags: agent.flags,
            },
            false,
            RoleRule::BuiltinFixed,
        ),
        (
            "lead deletes an empty role within",
            &lead_actor,
            RoleChange::Delete {
                role: &small,
                move_to: None,
            },
            true,
            RoleRule::WithinYourFlags,
        ),
        (
            "lead deletes a role above",
            &lead_actor,
            RoleChange::Delete {
                role: &org,
                move_to: None,
            },
            false,
            RoleRule::RoleAboveYours,
        ),
        (
            "lead moves users up to Agent",
            &lead_actor,
            RoleChange::Delete {
                role: &small,
                move_to: Some(&agent),
            },
            false,
            RoleRule::MoveAboveYours,
        ),
        (
            "lead moves users sideways",
            &lead_actor,
            RoleChange::Delete {
                role: &small,
                move_to: Some(&lead_role),
            },
            true,
            RoleRule::WithinYourFlags,
        ),
        (
            "admin moves users to Admin",
            &admin,
            RoleChange::Delete {
                role: &small,
                move_to: Some(&admin_role),
            },
            true,
            RoleRule::WithinYourFlags,
        ),
        (
            "owner moves users to Owner",
            &owner,
            RoleChange::Delete {
                role: &small,
                move_to: Some(&owner_role),
            },
            false,
            RoleRule::BuiltinFixed,
        ),
    ];
    let wrong: Vec<String> = table
        .into_iter()
        .filter_map(|(name, actor, change, allowed, rule)| {
            let got = can_change_role(actor, change);
            (got != (allowed, rule)).then(|| format!("{name}: got {got:?}"))
        })
        .collect();
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn granting_managing_and_deactivating_users_as_a_table() {
    use confer::policy::{ManageRule, ManagedUser, can_deactivate, can_grant, can_manage_user};
    let owner = actor(Some(BuiltinRole::Owner));
    let admin = actor(Some(BuiltinRole::Admin));
    let manager = actor(Some(BuiltinRole::Manager));
    let agent = actor(Some(BuiltinRole::Agent));
    // Manages users and admins, but holds no settings: Admin is above it.
    let people = holding(custom(
        "People",
        &[Flag::UsersView, Flag::UsersManage, Flag::UsersManageAdmins],
    ));
    let g = |r: BuiltinRole| Some(RoleGrant::builtin(r));
    let viewer = Some(custom("Viewer", &[Flag::UsersView]));
    let reporter = Some(custom("Reporter", &[Flag::ReportsView]));
    type Row<'a> = (
        &'a str,
        &'a Actor,
        UserType,
        Option<RoleGrant>,
        bool,
        ManageRule,
    );
    let grants: Vec<Row> = vec![
        (
            "owner grants admin",
            &owner,
            UserType::FullTime,
            g(BuiltinRole::Admin),
            true,
            ManageRule::ManagesAdmins,
        ),
        (
            "owner grants owner",
            &owner,
            UserType::FullTime,
            g(BuiltinRole::Owner),
            false,
            ManageRule::OwnerProtected,
        ),
        (
            "admin grants admin",
            &admin,
            UserType::FullTime,
            g(BuiltinRole::Admin),
            true,
            ManageRule::ManagesAdmins,
        ),
        (
            "manager grants agent",
            &manager,
            UserType::FullTime,
            g(BuiltinRole::Agent),
            true,
            ManageRule::ManagesUsers,
        ),
        (
            "manager grants admin",
            &manager,
            UserType::FullTime,
            g(BuiltinRole::Admin),
            false,
            ManageRule::RoleAboveYours,
        ),
        (
            "manager grants a role with reports",
            &manager,
            UserType::Seasonal,
            reporter.clone(),
            true,
            ManageRule::ManagesUsers,
        ),
        (
            "manager adds a collaborator",
            &manager,
            UserType::Collaborator,
            g(BuiltinRole::Admin),
            true,
            ManageRule::ManagesUsers,
        ),
        (
            "agent grants anything",
            &agent,
            UserType::Collaborator,
            None,
            false,
            ManageRule::CannotManageUsers,
        ),
        (
            "people grants admin",
            &people,
            UserType::FullTime,
            g(BuiltinRole::Admin),
            false,
            ManageRule::RoleAboveYours,
        ),
        (
            "people grants agent",
            &people,
            UserType::FullTime,
            g(BuiltinRole::Agent),
            false,
            ManageRule::RoleAboveYours,
        ),
        (
            "people grants viewer",
            &people,
            UserType::FullTime,
            viewer.clone(),
            true,
            ManageRule::ManagesUsers,
        ),
        (
            "people grants reporter",
            &people,
            UserType::FullTime,
            reporter.clone(),
            false,
            ManageRule::RoleAboveYours,
        ),
    ];
    let mut wrong = Vec::new();
    for (name, actor, user_type, role, allowed, rule) in &grants {
        let got = can_grant(actor, *user_type, role.as_ref());
        if got != (*allowed, *rule) {
            wrong.push(format!("{name}: got {got:?}"));
        }
    }
    let target = |id: i64, user_type: UserType, role: Option<RoleGrant>| ManagedUser {
        user_id: id,
        user_type,
        role,
    };
    type Managed<'a> = (
        &'a str,
        &'a Actor,
        ManagedUser,
        bool,
        ManageRule,
        bool,
        ManageRule,
    );
    // (name, actor, target, may manage, rule, may deactivate, rule)
    let managed: Vec<Managed> = vec![
        (
            "admin and the owner",
            &admin,
            target(1, UserType::FullTime, g(BuiltinRole::Owner)),
            false,
            ManageRule::OwnerProtected,
            false,
            ManageRule::OwnerProtected,
        ),
        (
            "admin and an admin",
            &admin,
            target(2, UserType::FullTime, g(BuiltinRole::Admin)),
            true,
            ManageRule::ManagesAdmins,
            true,
            ManageRule::ManagesAdmins,
        ),
        (
            "admin and themselves",
            &admin,
            target(7, UserType::FullTime, g(BuiltinRole::Admin)),
            true,
            ManageRule::ManagesAdmins,
            false,
            ManageRule::NotYourself,
        ),
        (
            "manager and an admin",
            &manager,
            target(2, UserType::FullTime, g(BuiltinRole::Admin)),
            false,
            ManageRule::RoleAboveYours,
            false,
            ManageRule::RoleAboveYours,
        ),
        (
            "manager and an agent",
            &manager,
            target(3, UserType::FullTime, g(BuiltinRole::Agent)),
            true,
            ManageRule::ManagesUsers,
            true,
            ManageRule::ManagesUsers,
        ),
        (
            "manager and a collaborator",
            &manager,
            target(4, UserType::Collaborator, None),
            true,
            ManageRule::ManagesUsers,
            true,
            ManageRule::ManagesUsers,
        ),
        (
            "agent and a collaborator",
            &agent,
            target(4, UserType::Collaborator, None),
            false,
            ManageRule::CannotManageUsers,
            false,
            ManageRule::CannotManageUsers,
        ),
        (
            "people and an admin",
            &people,
            target(2, UserType::FullTime, g(BuiltinRole::Admin)),
            false,
            ManageRule::RoleAboveYours,
            false,
            ManageRule::RoleAboveYours,
        ),
        (
            "people and a viewer",
            &people,
            target(5, UserType::FullTime, viewer),
            true,
            ManageRule::ManagesUsers,
            true,
            ManageRule::ManagesUsers,
        ),
    ];
    for (name, actor, target, manage, manage_rule, deactivate, deactivate_rule) in &managed {
        let got = can_manage_user(actor, target);
        if got != (*manage, *manage_rule) {
            wrong.push(format!("{name} (manage): got {got:?}"));
        }
        let got = can_deactivate(actor, target);
        if got != (*deactivate, *deactivate_rule) {
            wrong.push(format!("{name} (deactivate): got {got:?}"));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
}

#[test]
fn article_flags_as_a_table() {
    use confer::policy::{ArticleChange, article_flag};
    assert_eq!(article_flag(ArticleChange::Edit, false), Flag::KbEditDrafts);
    assert_eq!(article_flag(ArticleChange::Delete, false), Flag::KbCreate);
    assert_eq!(article_flag(ArticleChange::Edit, true), Flag::KbPublish);
    assert_eq!(article_flag(ArticleChange::Delete, true), Flag::KbPublish);
}

#[test]
fn scim_provisioning_is_an_admin_that_never_touches_the_owner() {
    use confer::policy::{ManageRule, ManagedUser, can_deactivate, can_grant, can_manage_user};
    let scim = Actor::provisioning();
    let admin = RoleGrant::builtin(BuiltinRole::Admin);
    let owner = RoleGrant::builtin(BuiltinRole::Owner);
    assert_eq!(
        can_grant(&scim, UserType::FullTime, Some(&admin)),
        (true, ManageRule::ManagesAdmins)
    );
    assert_eq!(
        can_grant(&scim, UserType::FullTime, Some(&owner)),
        (false, ManageRule::OwnerProtected)
    );
    let the_owner = ManagedUser {
        user_id: 1,
        user_type: UserType::FullTime,
        role: Some(owner),
    };
    assert_eq!(
        can_manage_user(&scim, &the_owner),
        (false, ManageRule::OwnerProtected)
    );
    assert_eq!(
        can_deactivate(&scim, &the_owner),
        (false, ManageRule::OwnerProtected)
    );
    let an_admin = ManagedUser {
        user_id: 2,
        user_type: UserType::FullTime,
        role: Some(admin),
    };
    assert_eq!(
        can_deactivate(&scim, &an_admin),
        (true, ManageRule::ManagesAdmins)
    );
    assert!(can(&scim, Action::Use(Flag::TeamsManage)).allowed);
    assert!(!can(&scim, Action::Use(Flag::SettingsPlan)).allowed);
    assert!(!can(&scim, Action::TransferOwnership).allowed);
}

#[test]
fn the_last_active_admin_is_kept_as_a_table() {
    use confer::policy::keeps_an_admin;
    // (the target is an active admin, stays one, active admins before) -> allowed
    let table = [
        ((false, false, 0), true),
        ((false, false, 1), true),
        ((true, true, 1), true),
        ((true, false, 1), false),
        ((true, false, 0), false),
        ((true, false, 2), true),
        ((true, true, 2), true),
    ];
    for ((is_admin, stays, count), allowed) in table {
        assert_eq!(
            keeps_an_admin(is_admin, stays, count),
            allowed,
            "admin {is_admin}, stays {stays}, {count} active admins"
        );
    }
}
