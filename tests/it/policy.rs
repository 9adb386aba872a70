//! The policy as a table: every built-in role and the collaborator type
//! against every action. Columns: Owner, Admin, Manager, Agent, Collaborator.
//! And who sees which conversation: the explainer against the lists.

use crate::db_test;
use confer::policy::{
    Action, Actor, BuiltinRole, ConversationAccess, ConversationScope, Flag, FlagSet, Granted,
    Reach, RoleGrant, Rule, ScopeRule, UserType, can, conversation_scope,
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
        granted: Granted::default(),
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
        (u(CollaboratorsGrant), [Y, Y, Y, N, N]),
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
            ConversationScope::Limited(Reach::teams(vec![1, 2])),
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
            ConversationScope::Limited(Reach::teams(vec![1, 2])),
            ScopeRule::AccessSetToTeams
        )
    );
    // Grants widen a collaborator's scope, and only a collaborator's.
    collaborator.granted = Granted {
        conversations: vec![12],
        customers: vec![3],
    };
    let widened = Reach {
        teams: vec![1, 2],
        conversations: vec![12],
        customers: vec![3],
    };
    assert_eq!(
        conversation_scope(&collaborator).0,
        ConversationScope::Limited(widened)
    );
    let mut agent = actor(Some(BuiltinRole::Agent));
    agent.conversation_access = ConversationAccess::Teams;
    agent.granted = collaborator.granted.clone();
    assert_eq!(
        conversation_scope(&agent).0,
        ConversationScope::Limited(Reach::teams(vec![1, 2]))
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

/// A small deterministic generator, so a failure can be replayed.
struct Dice(u64);

impl Dice {
    fn roll(&mut self, sides: u64) -> u64 {
        self.0 = self
            .0
            .wrapping_mul(6364136223846793005)
            .wrapping_add(1442695040888963407);
        (self.0 >> 33) % sides
    }
}

/// Every conversation id in the reader's lists: the inbox's views they
/// have and search by filters (a dozen conversations: one page each).
fn listed(client: &mut crate::support::Client) -> std::collections::BTreeSet<i64> {
    let mut ids = std::collections::BTreeSet::new();
    for path in [
        "/conversations?view=all",
        "/conversations?view=teams",
        "/conversations?view=unassigned",
        "/conversations?view=mine",
        "/search?status=open",
    ] {
        let page = client.get(path);
        if page.status != 200 {
            continue;
        }
        ids.extend(crate::support::conversation_ids(&page.body));
    }
    ids
}

db_test!(
    the_explainer_agrees_with_every_list_for_every_user_and_conversation,
    |app| {
        let app = app.with_org();
        let mut dice = Dice(20261206);
        let teams: Vec<i64> = ["Support", "Billing", "Field"]
            .iter()
            .map(|name| app.team(name))
            .collect();
        // A role that views its teams' conversations only, and one that
        // views none.
        app.sql(
            "INSERT INTO roles (key, name, builtin, permissions, created_at) VALUES \
             ('custom-teams', 'Team desk', FALSE, 'conversations.view_team conversations.note', '2026-01-01 00:00:00'), \
             ('custom-none', 'Knowledge only', FALSE, 'kb.view', '2026-01-01 00:00:00')",
        );
        let today = app.clock.now().date();
        let mut users = vec![(
            app.user_id("owner@acme.test"),
            "owner@acme.test".to_string(),
        )];
        for n in 0..14 {
            let email = format!("person{n}@acme.test");
            let mut builder = app.user(&email, &format!("Person {n}"));
            builder = match dice.roll(5) {
                0 => builder.collaborator(),
                1 => builder.role(BuiltinRole::Manager),
                2 => builder.seasonal(
                    today - chrono::Duration::days(dice.roll(3) as i64 * 20),
                    today + chrono::Duration::days(10)
                        - chrono::Duration::days(dice.roll(2) as i64 * 40),
                ),
                _ => builder,
            };
            if dice.roll(2) == 0 {
                builder = builder.teams_only();
            }
            for &team in &teams {
                if dice.roll(3) == 0 {
                    builder = builder.in_team(team);
                }
            }
            let id = builder.create();
            match dice.roll(8) {
                0 => app.sql(&format!(
                    "UPDATE users SET role_id = (SELECT id FROM roles WHERE key = 'custom-teams') WHERE id = {id} AND user_type <> 'collaborator'"
                )),
                1 => app.sql(&format!(
                    "UPDATE users SET role_id = (SELECT id FROM roles WHERE key = 'custom-none') WHERE id = {id} AND user_type <> 'collaborator'"
                )),
                2 => app.sql(&format!("UPDATE users SET active = FALSE WHERE id = {id}")),
                _ => {}
            }
            users.push((id, email));
        }
        // And two who cannot sign in, whatever their scope.
        let gone = app
            .user("gone@acme.test", "Gone Away")
            .in_team(teams[0])
            .create();
        app.sql(&format!(
            "UPDATE users SET active = FALSE WHERE id = {gone}"
        ));
        users.push((gone, "gone@acme.test".into()));
        let later = app
            .user("later@acme.test", "Later On")
            .seasonal(
                today + chrono::Duration::days(5),
                today + chrono::Duration::days(50),
            )
            .create();
        users.push((later, "later@acme.test".into()));
        let customers = [
            app.customer("Carl Customer", "carl@customer.test"),
            app.customer("Olga Other", "olga@customer.test"),
        ];
        let conversations: Vec<i64> = (0..12)
            .map(|n| {
                let team = match dice.roll(4) {
                    3 => None,
                    i => Some(teams[i as usize]),
                };
                let customer = customers[dice.roll(2) as usize];
                app.conversation(&format!("Case {n}"), customer, team, None, "open")
            })
            .collect();
        // Grants to some collaborators: a conversation, or a customer's;
        // one revoked (no longer counts).
        let collaborators: Vec<i64> = users
            .iter()
            .map(|(id, _)| *id)
            .filter(|id| {
                app.count(&format!(
                    "users WHERE id = {id} AND user_type = 'collaborator'"
                )) == 1
            })
            .collect();
        let mut granted = 0;
        for &user in &collaborators {
            for _ in 0..dice.roll(3) {
                let (column, id) = match dice.roll(3) {
                    0 => ("customer_id", customers[dice.roll(2) as usize]),
                    _ => ("conversation_id", conversations[dice.roll(12) as usize]),
                };
                let ended = if dice.roll(4) == 0 {
                    "'2026-01-02 00:00:00'"
                } else {
                    "NULL"
                };
                app.sql(&format!(
                    "INSERT INTO access_grants (user_id, {column}, created_at, expires_at, ended_at) \
                     VALUES ({user}, {id}, '2026-01-01 00:00:00', '2099-01-01 00:00:00', {ended})"
                ));
                granted += 1;
            }
        }
        assert!(granted > 0, "some grants in the data");

        let mut owner = app.sign_in("owner@acme.test");
        // What the generated data covers: (sees all, sees some, signed in
        // and sees none, cannot sign in).
        let mut kinds = [0; 4];
        let mut seen_by: std::collections::BTreeMap<i64, std::collections::BTreeSet<i64>> =
            conversations
                .iter()
                .map(|&id| (id, Default::default()))
                .collect();
        for (user, email) in &users {
            let mut verdicts = std::collections::BTreeSet::new();
            for &id in &conversations {
                let page = owner.get(&format!("/settings/users/{user}?conversation={id}"));
                assert_eq!(page.status, 200);
                let verdict = page
                    .body
                    .split("data-verdict=\"")
                    .nth(1)
                    .and_then(|s| s.split('"').next())
                    .expect("a verdict");
                if verdict == "yes" {
                    verdicts.insert(id);
                    seen_by.entry(id).or_default().insert(*user);
                }
            }
            let mut client = app.client();
            let signed_in = client.post_form(
                "/login",
                &[("email", email), ("password", crate::support::PASSWORD)],
            );
            if signed_in.location.as_deref() != Some("/") {
                assert!(
                    verdicts.is_empty(),
                    "{email} cannot sign in, yet sees {verdicts:?}"
                );
                kinds[3] += 1;
                continue;
            }
            kinds[match verdicts.len() {
                n if n == conversations.len() => 0,
                0 => 2,
                _ => 1,
            }] += 1;
            let lists = listed(&mut client);
            assert_eq!(lists, verdicts, "{email}: the lists and the explainer");
            for &id in &conversations {
                let status = client.get(&format!("/conversations/{id}")).status;
                assert_eq!(
                    status == 200,
                    verdicts.contains(&id),
                    "{email} opening #{id}: {status}"
                );
            }
        }
        assert!(
            kinds.iter().all(|&n| n > 0),
            "the data covers every case: {kinds:?}"
        );
        // "Who can see this" names the same people.
        for (id, expected) in &seen_by {
            let page = owner.get(&format!("/conversations/{id}/audience"));
            assert_eq!(page.status, 200);
            let named: std::collections::BTreeSet<i64> = page
                .body
                .split("data-user=\"")
                .skip(1)
                .filter_map(|s| s.split('"').next()?.parse().ok())
                .collect();
            assert_eq!(&named, expected, "who can see #{id}");
        }
    }
);
