//! Bulk changes on Settings > Users and `POST /api/v1/users/batch`: a
//! preview of each user's outcome that writes nothing, the policy deciding
//! per user, one transaction for the rest, an audit entry per user.

use serde_json::json;

use crate::db_test;
use crate::support::{Client, Response, TestApp};
use confer::policy::BuiltinRole;

/// Posts the bulk form as the users list sends it.
fn bulk(client: &mut Client, fields: &[(&str, &str)]) -> Response {
    client.post_form("/settings/users/bulk", fields)
}

/// The outcome the preview or result shows for a user.
fn outcome(page: &Response, user: i64) -> String {
    page.body
        .split(&format!("data-user=\"{user}\" data-outcome=\""))
        .nth(1)
        .and_then(|rest| rest.split('"').next())
        .unwrap_or("absent")
        .to_string()
}

fn two_agents(app: &TestApp, team: i64) -> (i64, i64) {
    (
        app.user("ann@acme.test", "Ann Agent")
            .in_team(team)
            .create(),
        app.user("bob@acme.test", "Bob Agent").create(),
    )
}

db_test!(
    a_manager_previews_then_applies_a_change_to_many_users,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let billing = app.team("Billing");
        let (ann, bob) = two_agents(&app, support);
        let admin = app.user_id("admin@acme.test");
        let cora = app.user_id("collab@acme.test");
        let mut manager = app.sign_in("manager@acme.test");

        let list = manager.get("/settings/users");
        assert!(list.body.contains("Change several users"));
        assert!(
            list.body
                .contains(&format!("name=\"ids\" value=\"{ann}\" form=\"users-bulk\""))
        );

        let billing_text = billing.to_string();
        let ids: Vec<String> = [ann, bob, admin, cora].iter().map(i64::to_string).collect();
        let mut fields = vec![("action", "add_teams"), ("team_ids", billing_text.as_str())];
        fields.extend(ids.iter().map(|id| ("ids", id.as_str())));
        let audit_before = app.count("audit_log");
        let preview = bulk(&mut manager, &fields);
        assert_eq!(preview.status, 200, "{}", preview.body);
        assert!(preview.body.contains("Add to teams: Billing"));
        assert!(
            preview
                .body
                .contains("3 will change, 0 already so, 1 refused.")
        );
        assert_eq!(outcome(&preview, ann), "changed");
        assert_eq!(outcome(&preview, cora), "changed");
        assert_eq!(outcome(&preview, admin), "refused");
        assert!(
            preview
                .body
                .contains("role has more permissions than you may manage. Ask an admin."),
            "the manager sees why the admin's row is refused"
        );
        assert_eq!(
            app.count(&format!("team_memberships WHERE team_id = {billing}")),
            0,
            "a preview writes nothing"
        );
        assert_eq!(app.count("audit_log"), audit_before);
        assert!(preview.body.contains("Apply to 3 users"));

        let mut apply = fields.clone();
        apply.push(("step", "apply"));
        let done = bulk(&mut manager, &apply);
        assert_eq!(done.status, 200, "{}", done.body);
        assert!(done.body.contains("3 changed, 0 already so, 1 refused."));
        assert_eq!(
            app.count(&format!(
                "team_memberships WHERE team_id = {billing} AND user_id IN ({ann}, {bob}, {cora})"
            )),
            3
        );
        assert_eq!(
            app.count(&format!("team_memberships WHERE user_id = {admin}")),
            0
        );
        assert_eq!(
            app.count(&format!(
                "team_memberships WHERE team_id = {support} AND user_id = {ann}"
            )),
            1,
            "adding keeps their other teams"
        );
        assert_eq!(
            app.count("audit_log WHERE action = 'user.updated'"),
            3,
            "one entry per user"
        );

        // Again: already so.
        let again = bulk(&mut manager, &apply);
        assert!(again.body.contains("0 changed, 3 already so, 1 refused."));

        // A role for collaborators does not apply; nothing chosen is said.
        let agent_role = app.role_id(BuiltinRole::Manager).to_string();
        let cora_text = cora.to_string();
        let roles = bulk(
            &mut manager,
            &[
                ("action", "role"),
                ("role_id", &agent_role),
                ("ids", &cora_text),
            ],
        );
        assert_eq!(outcome(&roles, cora), "refused");
        assert!(roles.body.contains("Collaborators hold no role."));
        let nothing = bulk(&mut manager, &[("action", "role")]);
        assert_eq!(nothing.status, 422);
        assert!(nothing.body.contains("Choose a role."));
        assert!(nothing.body.contains("Choose at least one user."));

        // Agents may not change users at all.
        let mut agent = app.sign_in("agent@acme.test");
        assert_eq!(bulk(&mut agent, &fields).status, 403);
    }
);

db_test!(
    the_allowance_counts_the_whole_batch_and_all_matching_users_are_reached,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let billing = app.team("Billing");
        app.sql("UPDATE org_settings SET collaborator_allowance = 'fixed', collaborator_allowance_fixed = 2");
        let (ann, bob) = two_agents(&app, billing);
        let carl = app
            .user("carl@acme.test", "Carl Agent")
            .in_team(billing)
            .create();
        app.sql(&format!(
            "INSERT INTO team_memberships (team_id, user_id) VALUES ({billing}, {bob})"
        ));
        let mut admin = app.sign_in("admin@acme.test");
        // One collaborator (Cora) already: one seat left for three.
        let ids: Vec<String> = [ann, bob, carl].iter().map(i64::to_string).collect();
        let mut fields = vec![
            ("action", "type"),
            ("user_type", "collaborator"),
            ("step", "apply"),
        ];
        fields.extend(ids.iter().map(|id| ("ids", id.as_str())));
        let done = bulk(&mut admin, &fields);
        assert!(
            done.body.contains("1 changed, 0 already so, 2 refused."),
            "{}",
            done.body
        );
        assert_eq!(outcome(&done, ann), "changed");
        assert_eq!(outcome(&done, bob), "refused");
        assert!(done.body.contains("collaborator"), "the allowance is named");
        assert_eq!(app.count("users WHERE user_type = 'collaborator'"), 2);
        assert_eq!(
            app.count(&format!("users WHERE id = {ann} AND role_id IS NULL")),
            1
        );

        // Everyone the filter matches, well past one page of the list.
        for n in 0..55 {
            app.user(&format!("temp{n}@acme.test"), &format!("Temp {n:02}"))
                .in_team(billing)
                .create();
        }
        let billing_text = billing.to_string();
        let x = app.user_id("agent@acme.test").to_string();
        let conversation = {
            let customer = app.customer("Dora Customer", "dora@customer.test");
            let temp = app.user_id("temp3@acme.test");
            app.conversation("Open one", customer, Some(support), Some(temp), "open")
        };
        let done = bulk(
            &mut admin,
            &[
                ("all", "1"),
                ("filter_tab", "active"),
                ("filter_team", &billing_text),
                ("filter_q", "Temp"),
                ("action", "deactivate"),
                ("reassign_to", &x),
                ("step", "apply"),
            ],
        );
        assert!(
            done.body.contains("55 changed, 0 already so, 0 refused."),
            "{}",
            done.body
        );
        assert_eq!(
            app.count("users WHERE email LIKE 'temp%' AND active = FALSE"),
            55
        );
        assert_eq!(
            app.count(&format!(
                "conversations WHERE id = {conversation} AND assignee_id = {x}"
            )),
            1,
            "one hand-back choice for all"
        );
        assert_eq!(app.count("audit_log WHERE action = 'user.deactivated'"), 55);
        assert_eq!(
            app.count("users WHERE active = TRUE AND email = 'carl@acme.test'"),
            1
        );
    }
);

db_test!(invitations_are_resent_and_revoked_in_bulk, |app| {
    let app = app.with_org();
    app.staff();
    let pending = app.user("pam@acme.test", "Pam Pending").create();
    let other = app.user("pia@acme.test", "Pia Pending").create();
    app.sql(&format!(
        "UPDATE users SET password_hash = NULL WHERE id IN ({pending}, {other})"
    ));
    let agent = app.user_id("agent@acme.test");
    let mut admin = app.sign_in("admin@acme.test");
    let ids = [pending, other, agent].map(|id| id.to_string());
    let mut fields = vec![("action", "resend"), ("step", "apply")];
    fields.extend(ids.iter().map(|id| ("ids", id.as_str())));
    let resent = bulk(&mut admin, &fields);
    assert!(
        resent.body.contains("2 changed, 0 already so, 1 refused."),
        "{}",
        resent.body
    );
    assert!(resent.body.contains("Has no pending invitation."));
    assert_eq!(
        app.count(
            "outbox WHERE kind = 'invitation' AND recipient IN ('pam@acme.test', 'pia@acme.test')"
        ),
        2
    );
    let mut revoke = vec![("action", "revoke"), ("step", "apply")];
    revoke.extend(ids[..2].iter().map(|id| ("ids", id.as_str())));
    let revoked = bulk(&mut admin, &revoke);
    assert!(revoked.body.contains("2 changed"), "{}", revoked.body);
    assert_eq!(
        app.count("users WHERE email IN ('pam@acme.test', 'pia@acme.test')"),
        0
    );
    assert_eq!(
        app.count("audit_log WHERE action = 'user.invitation_revoked'"),
        2
    );
});

db_test!(the_batch_endpoint_answers_per_user, |app| {
    let app = app.with_org();
    let support = app.staff();
    let (ann, bob) = two_agents(&app, support);
    let admin = app.user_id("admin@acme.test");
    let token = app.api_token("manager@acme.test");
    let mut c = app.client();
    let access = |dry_run: bool| {
        json!({
            "user_ids": [ann, bob, admin, 999_999],
            "change": { "action": "conversation_access", "conversation_access": "teams" },
            "dry_run": dry_run,
        })
    };
    let dry = c.api(
        "POST",
        "/api/v1/users/batch",
        Some(&token),
        Some(&access(true)),
        &[],
    );
    assert_eq!(dry.status, 200, "{}", dry.body);
    let body = dry.json();
    assert_eq!(body["dry_run"], true);
    assert_eq!(
        (body["changed"].as_u64(), body["refused"].as_u64()),
        (Some(2), Some(2))
    );
    assert_eq!(body["results"][2]["user_id"], admin);
    assert_eq!(body["results"][2]["status"], "refused");
    assert_eq!(body["results"][2]["error"]["code"], "unmanageable");
    assert_eq!(body["results"][3]["error"]["code"], "not_found");
    assert_eq!(
        app.count("users WHERE conversation_access = 'teams'"),
        0,
        "a dry run changes nothing"
    );
    let done = c.api(
        "POST",
        "/api/v1/users/batch",
        Some(&token),
        Some(&access(false)),
        &[],
    );
    assert_eq!(done.status, 200, "{}", done.body);
    assert_eq!(done.json()["results"][0]["status"], "changed");
    assert_eq!(
        app.count(&format!(
            "users WHERE conversation_access = 'teams' AND id IN ({ann}, {bob})"
        )),
        2
    );
    let missing = c.api(
        "POST",
        "/api/v1/users/batch",
        Some(&token),
        Some(&json!({ "user_ids": [ann], "change": { "action": "role" } })),
        &[],
    );
    assert_eq!(missing.status, 422, "{}", missing.body);
    let agent_token = app.api_token("agent@acme.test");
    let refused = c.api(
        "POST",
        "/api/v1/users/batch",
        Some(&agent_token),
        Some(&access(false)),
        &[],
    );
    assert_eq!(refused.status, 403);
});
