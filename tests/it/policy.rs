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
