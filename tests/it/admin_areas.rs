//! Settings > Teams, Roles, Audit log and CSV import, and the route × role
//! matrix for everything under /settings.

use confer::policy::BuiltinRole;

use crate::db_test;
use crate::smtp::SmtpSink;
use crate::support::*;

db_test!(teams_are_created_renamed_staffed_and_deleted, |app| {
    let app = app.with_org();
    let support = app.staff();
    let mut manager = app.sign_in("manager@acme.test");
    let duplicate = manager.post_form("/settings/teams", &[("name", "support")]);
    assert_eq!(duplicate.status, 422);
    assert!(
        duplicate
            .body
            .contains("A team with this name already exists.")
    );
    let created = manager.post_form("/settings/teams", &[("name", "Billing")]);
    let billing: i64 = created
        .location
        .as_deref()
        .and_then(|l| l.split('/').nth(3))
        .and_then(|s| s.split('?').next())
        .and_then(|s| s.parse().ok())
        .expect("team id");
    let alan = app.user_id("agent@acme.test").to_string();
    manager
        .post_form(
            &format!("/settings/teams/{billing}/members"),
            &[("user_id", &alan)],
        )
        .expect_done();
    assert_eq!(
        app.count(&format!("team_memberships WHERE team_id = {billing}")),
        1
    );
    manager
        .post_form(
            &format!("/settings/teams/{billing}"),
            &[("name", "Billing & Refunds")],
        )
        .expect_done();
    assert!(
        manager
            .get("/settings/teams")
            .body
            .contains("Billing &amp; Refunds")
            || manager
                .get("/settings/teams")
                .body
                .contains("Billing &#38; Refunds")
    );

    let refused = manager.post_form(
        &format!("/settings/teams/{support}/delete"),
        &[("move_to", "")],
    );
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains("This team has 3 members. Choose a team to move them to first.")
    );
    let customer = app.customer("Carl", "carl@customer.test");
    let conversation = app.conversation("Help", customer, Some(support), None, "open");
    let billing_text = billing.to_string();
    let deleted = manager.post_form(
        &format!("/settings/teams/{support}/delete"),
        &[("move_to", &billing_text)],
    );
    assert_eq!(
        deleted.location.as_deref(),
        Some("/settings/teams?notice=deleted")
    );
    assert_eq!(
        app.count(&format!("team_memberships WHERE team_id = {billing}")),
        3,
        "members moved (Alan only once)"
    );
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {conversation} AND team_id = {billing}"
        )),
        1
    );
    assert_eq!(app.count("teams"), 1);
    let removed = manager.post_form(
        &format!("/settings/teams/{billing}/members/{alan}/remove"),
        &[],
    );
    removed.expect_redirect("/settings/teams/*");
    assert_eq!(
        app.count(&format!("team_memberships WHERE team_id = {billing}")),
        2
    );
    assert_eq!(app.count("audit_log WHERE target_type = 'team'"), 5);
});

db_test!(custom_roles_by_flags_and_deleting_one_in_use, |app| {
    let app = app.with_org();
    app.staff();
    let mut admin = app.sign_in("admin@acme.test");
    let list = admin.get("/settings/roles");
    assert!(list.body.contains("Built-in") && list.body.contains("Reply to customers"));
    let above = admin.post_form(
        "/settings/roles/new",
        &[
            ("name", "Billing lead"),
            ("flags", "reports.view"),
            ("flags", "settings.plan"),
        ],
    );
    assert_eq!(above.status, 422);
    assert!(
        above
            .body
            .contains("only hold permissions you hold yourself")
    );
    let created = admin.post_form(
        "/settings/roles/new",
        &[
            ("name", "Billing lead"),
            ("flags", "conversations.view_team"),
            ("flags", "reports.view"),
        ],
    );
    assert_eq!(
        created.location.as_deref(),
        Some("/settings/roles?notice=created")
    );
    let role = app.count("roles WHERE builtin = FALSE");
    assert_eq!(role, 1);
    let agent = app.user_id("agent@acme.test");
    app.sql(&format!("UPDATE users SET role_id = (SELECT id FROM roles WHERE name = 'Billing lead') WHERE id = {agent}"));
    let mut alan = app.sign_in("agent@acme.test");
    assert!(alan.get("/").body.contains("Signed in as Billing lead"));
    let role_id = app.count("roles WHERE name = 'Billing lead'"); // exists
    assert_eq!(role_id, 1);
    let id: i64 = {
        use confer::db::schema::roles;
        use diesel::prelude::*;
        roles::table
            .filter(roles::name.eq("Billing lead"))
            .select(roles::id)
            .first(&mut app.conn())
            .expect("id")
    };
    let edited = admin.post_form(
        &format!("/settings/roles/{id}"),
        &[
            ("name", "Billing lead"),
            ("flags", "conversations.view_team"),
        ],
    );
    edited.expect_redirect("/settings/roles");
    let in_use = admin.post_form(&format!("/settings/roles/{id}/delete"), &[("move_to", "")]);
    assert_eq!(in_use.status, 422);
    assert!(in_use.body.contains("1 user holds this role."));
    let agent_role = app.role_id(BuiltinRole::Agent).to_string();
    let deleted = admin.post_form(
        &format!("/settings/roles/{id}/delete"),
        &[("move_to", &agent_role)],
    );
    assert_eq!(
        deleted.location.as_deref(),
        Some("/settings/roles?notice=deleted")
    );
    assert_eq!(
        app.count(&format!(
            "users WHERE id = {agent} AND role_id = {agent_role}"
        )),
        1
    );
    let builtin = app.role_id(BuiltinRole::Admin);
    assert_eq!(
        admin.get(&format!("/settings/roles/{builtin}")).status,
        404,
        "built-in roles are read-only"
    );
    assert_eq!(app.count("audit_log WHERE target_type = 'role'"), 3);
});

db_test!(the_audit_log_filters_and_exports, |app| {
    let app = app.with_org();
    app.staff();
    let mut admin = app.sign_in("admin@acme.test");
    admin
        .post_form("/settings/teams", &[("name", "=cmd|' /C calc'!A0")])
        .expect_done();
    admin
        .post_form("/settings/teams", &[("name", "Escalations")])
        .expect_done();
    let log = admin.get("/settings/audit");
    assert!(log.body.contains("team.created") && log.body.contains("Escalations"));
    assert!(
        log.body.contains("Ada Admin &lt;admin@acme.test&gt;")
            || log.body.contains("Ada Admin &#60;admin@acme.test&#62;")
    );
    let filtered = admin.get("/settings/audit?target=escal");
    assert!(filtered.body.contains("Escalations") && !filtered.body.contains("calc"));
    let by_action = admin.get("/settings/audit?action=user.invited");
    assert!(by_action.body.contains("No entries match."));
    let csv = admin.get("/settings/audit.csv");
    assert!(
        csv.body
            .starts_with("time_utc,actor,action,target_type,target,before,after,ip")
    );
    assert!(
        csv.body.contains("'=cmd"),
        "formula cells are defused: {}",
        csv.body
    );
    assert!(csv.body.contains("127.0.0.1"), "the IP is recorded");
    assert_eq!(
        admin.post_form("/settings/audit", &[]).status,
        404,
        "no way to change entries"
    );
});

const CSV: &str =
    "name,email,type,role,teams,language,timezone,conversation_access,access_starts,access_ends
Ada Lovelace,ada@new.test,full_time,agent,Support,en,Europe/London,teams,,
Grace Hopper,grace@new.test,collaborator,,Support,,America/New_York,all,,
Linus Berg,linus@new.test,seasonal,Agent,support,de,Europe/Berlin,teams,2027-12-01,2028-01-15
Alan Agent,agent@acme.test,full_time,agent,Support,,,all,,
Alan Changed,agent@acme.test,full_time,agent,,,,,,
Bad Person,not-an-email,full_time,agent,,,,,,
Role Less,roleless@new.test,full_time,wizard,,,,,,
Team Less,teamless@new.test,full_time,agent,Narnia,,,,,
";

db_test!(csv_import_previews_then_imports_once, |app| {
    let app = app.with_org();
    app.staff();
    let sink = SmtpSink::start();
    let mut admin = app.sign_in("admin@acme.test");
    let template = admin.get("/settings/users/import/template.csv");
    assert!(template.body.starts_with(
        "name,email,type,role,teams,language,timezone,conversation_access,access_starts,access_ends"
    ));
    let preview = admin.post_file(
        "/settings/users/import",
        "file",
        "users.csv",
        CSV.as_bytes(),
    );
    assert_eq!(preview.status, 200, "{}", preview.body);
    assert!(
        preview
            .body
            .contains("3 to add, 0 to update, 1 unchanged, 4 with errors."),
        "{}",
        preview.body
    );
    assert!(
        preview
            .body
            .contains("This email address appears earlier in the file.")
    );
    assert!(
        preview.body.contains("Unknown role &#34;wizard&#34;")
            || preview.body.contains("Unknown role &quot;wizard&quot;")
    );
    assert!(preview.body.contains("Narnia"));
    assert!(
        preview
            .body
            .contains("Enter an email address like name@example.com.")
    );
    assert_eq!(app.count("users"), 5, "the preview writes nothing");

    let payload = preview
        .body
        .split("name=\"payload\" value=\"")
        .nth(1)
        .and_then(|s| s.split('"').next())
        .expect("payload")
        .to_string();
    let done = admin.post_form("/settings/users/import/confirm", &[("payload", &payload)]);
    assert_eq!(
        done.location.as_deref(),
        Some("/settings/users?notice=imported&added=3&updated=0")
    );
    assert_eq!(
        app.count("users WHERE email IN ('ada@new.test', 'grace@new.test', 'linus@new.test')"),
        3
    );
    assert_eq!(app.count("users WHERE email = 'linus@new.test' AND user_type = 'seasonal' AND access_starts IS NOT NULL"), 1);
    assert_eq!(
        app.count("outbox WHERE kind = 'invitation'"),
        3,
        "invitations queued"
    );
    assert_eq!(app.run_jobs(Some(sink.port)).sent, 3);

    let again = admin.post_file(
        "/settings/users/import",
        "file",
        "users.csv",
        CSV.as_bytes(),
    );
    assert!(
        again
            .body
            .contains("0 to add, 0 to update, 4 unchanged, 4 with errors."),
        "{}",
        again.body
    );
    assert!(again.body.contains("Nothing to import"));
    let users_before = app.count("users");
    let audit_before = app.count("audit_log");
    let again = admin.post_form("/settings/users/import/confirm", &[("payload", &payload)]);
    again.expect_redirect("/settings/users");
    assert_eq!(
        app.count("users"),
        users_before,
        "the second import changes nothing"
    );
    assert_eq!(app.count("audit_log"), audit_before);

    let update =
        "name,email,type,role,teams\nAlan Renamed,agent@acme.test,full_time,manager,Support\n";
    let preview = admin.post_file("/settings/users/import", "file", "u.csv", update.as_bytes());
    assert!(
        preview.body.contains("0 to add, 1 to update"),
        "{}",
        preview.body
    );
    assert!(preview.body.contains("name, role"));
    let bad = admin.post_file(
        "/settings/users/import",
        "file",
        "u.csv",
        b"name,mail\nx,y\n",
    );
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("Unknown column &#34;mail&#34;")
            || bad.body.contains("Unknown column &quot;mail&quot;")
    );

    let mut manager = app.sign_in("manager@acme.test");
    let escalate = "name,email,type,role\nEve,eve@new.test,full_time,admin\n";
    let preview = manager.post_file(
        "/settings/users/import",
        "file",
        "u.csv",
        escalate.as_bytes(),
    );
    assert!(
        preview.body.contains("role: You cannot give this role"),
        "managers cannot import admins, told under the file's column: {}",
        preview.body
    );
    assert!(!preview.body.contains("role_id"), "no internal field names");

    // A row with several problems reports them all, each by its column.
    let troubled = "name,email,type,role,teams,conversation_access
                    ,not-an-email,full_time,wizard,Narnia;Atlantis,sometimes
";
    let preview = manager.post_file(
        "/settings/users/import",
        "file",
        "u.csv",
        troubled.as_bytes(),
    );
    let body = preview.body.replace("&#34;", "\"").replace("&quot;", "\"");
    for problem in [
        "role: Unknown role \"wizard\"",
        "teams: Unknown team \"Narnia\"",
        "teams: Unknown team \"Atlantis\"",
        "name: ",
        "email: Enter an email address like name@example.com.",
        "conversation_access: Choose which conversations the user may see.",
    ] {
        assert!(body.contains(problem), "{problem} in {body}");
    }
    assert!(body.contains("0 to add, 0 to update, 0 unchanged, 1 with errors."));
});

/// (path, [owner, admin, manager, agent, collaborator])
const SETTINGS_MATRIX: &[(&str, [u16; 5])] = &[
    ("/settings", [303, 303, 303, 403, 403]),
    ("/settings/organisation", [200, 200, 403, 403, 403]),
    ("/settings/collaborators", [200, 200, 403, 403, 403]),
    ("/settings/security", [200, 200, 403, 403, 403]),
    ("/settings/users", [200, 200, 200, 403, 403]),
    ("/settings/users/new", [200, 200, 200, 403, 403]),
    ("/settings/users/import", [200, 200, 200, 403, 403]),
    (
        "/settings/users/import/template.csv",
        [200, 200, 200, 403, 403],
    ),
    ("/settings/users/dormant", [200, 200, 200, 403, 403]),
    ("/settings/users/dormant.csv", [200, 200, 200, 403, 403]),
    ("/settings/users/{agent}", [200, 200, 200, 403, 403]),
    (
        "/settings/users/{agent}/deactivate",
        [200, 200, 200, 403, 403],
    ),
    (
        "/settings/users/{admin}/deactivate",
        [200, 200, 403, 403, 403],
    ),
    (
        "/settings/users/{agent}/reactivate",
        [303, 303, 303, 403, 403],
    ),
    ("/settings/teams", [200, 200, 200, 403, 403]),
    ("/settings/teams/{team}", [200, 200, 200, 403, 403]),
    ("/settings/roles", [200, 200, 403, 403, 403]),
    ("/settings/roles/new", [200, 200, 403, 403, 403]),
    ("/settings/roles/{role}", [200, 200, 403, 403, 403]),
    ("/settings/outbox", [200, 200, 403, 403, 403]),
    ("/settings/email", [200, 200, 403, 403, 403]),
    ("/settings/api", [200, 200, 403, 403, 403]),
    ("/settings/webhooks", [200, 200, 403, 403, 403]),
    ("/settings/provisioning", [200, 200, 403, 403, 403]),
    ("/settings/webhooks/{webhook}", [200, 200, 403, 403, 403]),
    ("/settings/audit", [200, 200, 403, 403, 403]),
    ("/settings/audit.csv", [200, 200, 403, 403, 403]),
];

/// State-changing routes: nobody below the column's level gets through.
const SETTINGS_POSTS: &[(&str, [bool; 5])] = &[
    ("/settings/organisation", [true, true, false, false, false]),
    ("/settings/security", [true, true, false, false, false]),
    (
        "/settings/users/{agent}/two-factor/reset",
        [true, true, false, false, false],
    ),
    ("/settings/users/new", [true, true, true, false, false]),
    ("/settings/users/{agent}", [true, true, true, false, false]),
    ("/settings/users/{admin}", [true, true, false, false, false]),
    (
        "/settings/users/{owner}",
        [false, false, false, false, false],
    ),
    (
        "/settings/users/{owner}/deactivate",
        [false, false, false, false, false],
    ),
    (
        "/settings/users/{admin}/deactivate",
        [true, false, false, false, false],
    ),
    ("/settings/teams", [true, true, true, false, false]),
    ("/settings/teams/{team}", [true, true, true, false, false]),
    (
        "/settings/outbox/{mail}/retry",
        [true, true, false, false, false],
    ),
    ("/settings/email/token", [true, true, false, false, false]),
    (
        "/settings/email/token/delete",
        [true, true, false, false, false],
    ),
    ("/settings/roles/new", [true, true, false, false, false]),
    ("/settings/roles/{role}", [true, true, false, false, false]),
    (
        "/settings/roles/{role}/delete",
        [true, true, false, false, false],
    ),
    ("/settings/users/import", [true, true, true, false, false]),
    (
        "/settings/users/import/confirm",
        [true, true, true, false, false],
    ),
    (
        "/settings/users/{pending}/resend",
        [true, true, true, false, false],
    ),
    (
        "/settings/users/{pending}/revoke",
        [true, true, true, false, false],
    ),
    (
        "/settings/users/{agent}/reactivate",
        [true, true, true, false, false],
    ),
    (
        "/settings/teams/{team}/members",
        [true, true, true, false, false],
    ),
    (
        "/settings/teams/{team}/members/{agent}/remove",
        [true, true, true, false, false],
    ),
    (
        "/settings/teams/{team}/delete",
        [true, true, true, false, false],
    ),
    (
        "/settings/api/tokens/{token}/revoke",
        [true, true, false, false, false],
    ),
    (
        "/settings/api/scim-token",
        [true, true, false, false, false],
    ),
    (
        "/settings/api/scim-token/delete",
        [true, true, false, false, false],
    ),
    ("/settings/webhooks", [true, true, false, false, false]),
    ("/settings/provisioning", [true, true, false, false, false]),
    (
        "/settings/provisioning/{mapping}/delete",
        [true, true, false, false, false],
    ),
    // Managers change the users they may manage (each user decided alone).
    ("/settings/users/bulk", [true, true, true, false, false]),
    (
        "/settings/webhooks/{webhook}",
        [true, true, false, false, false],
    ),
    (
        "/settings/webhooks/{webhook}/test",
        [true, true, false, false, false],
    ),
    (
        "/settings/webhooks/{webhook}/deliveries/{delivery}/retry",
        [true, true, false, false, false],
    ),
    (
        "/settings/webhooks/{webhook}/delete",
        [true, true, false, false, false],
    ),
];

#[test]
fn every_settings_route_is_in_the_matrix() {
    let normalize = |p: &str| {
        p.split('/')
            .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
            .collect::<Vec<_>>()
            .join("/")
    };
    let gets: Vec<String> = SETTINGS_MATRIX.iter().map(|(p, _)| normalize(p)).collect();
    let posts: Vec<String> = SETTINGS_POSTS.iter().map(|(p, _)| normalize(p)).collect();
    let mut missing = Vec::new();
    for (method, path) in registered_routes() {
        if !path.starts_with("/settings") {
            continue;
        }
        let listed = if method == "GET" { &gets } else { &posts };
        if !listed.contains(&normalize(&path)) {
            missing.push(format!("{method} {path}"));
        }
    }
    assert!(
        missing.is_empty(),
        "not in the settings matrix: {missing:?}"
    );
}

db_test!(settings_route_by_role_matrix, |app| {
    let app = app.with_org();
    let team = app.staff();
    app.sql("INSERT INTO roles (key, name, builtin, permissions, created_at) VALUES ('custom-x', 'Readers', FALSE, 'kb.view', '2026-01-01 00:00:00')");
    let role = {
        use confer::db::schema::roles;
        use diesel::prelude::*;
        roles::table
            .filter(roles::key.eq("custom-x"))
            .select(roles::id)
            .first::<i64>(&mut app.conn())
            .expect("role")
    };
    app.sql("INSERT INTO users (name, email, user_type, role_id, conversation_access, active, session_version, created_at, updated_at) VALUES ('Pending Pat', 'pat@acme.test', 'full_time', NULL, 'all', TRUE, 1, '2026-01-01 00:00:00', '2026-01-01 00:00:00')");
    app.sql("INSERT INTO outbox (kind, recipient, subject, body_text, status, attempts, next_attempt_at, created_at) VALUES ('invitation', 'x@acme.test', 'Hi', 'Body', 'failed', 3, '2026-01-01 00:00:00', '2026-01-01 00:00:00')");
    let mail = {
        use confer::db::schema::outbox;
        use diesel::prelude::*;
        outbox::table
            .select(outbox::id)
            .first::<i64>(&mut app.conn())
            .expect("mail")
    };
    let now = app.clock.now();
    let webhook = confer::models::webhook::create(
        &mut app.conn(),
        "http://127.0.0.1:9/hook",
        &["note.added"],
        "secret",
        now,
    )
    .expect("webhook");
    let delivery = confer::models::webhook::queue(
        &mut app.conn(),
        webhook,
        "webhook.test",
        &serde_json::json!({}),
        now,
    )
    .expect("delivery");
    let token = confer::models::api_token::create(
        &mut app.conn(),
        app.user_id("agent@acme.test"),
        "matrix",
        now,
    )
    .expect("token")
    .0;
    let ids = [
        ("{webhook}", webhook),
        ("{delivery}", delivery),
        ("{token}", token),
        ("{mail}", mail),
        ("{pending}", app.user_id("pat@acme.test")),
        ("{role}", role),
        ("{agent}", app.user_id("agent@acme.test")),
        ("{admin}", app.user_id("admin@acme.test")),
        ("{owner}", app.user_id("owner@acme.test")),
        ("{team}", team),
        // No such mapping: refused (403) before it is looked for (404).
        ("{mapping}", 999_999),
    ];
    let fill = |path: &str| {
        ids.iter()
            .fold(path.to_string(), |p, (k, v)| p.replace(k, &v.to_string()))
    };
    let emails = [
        "owner@acme.test",
        "admin@acme.test",
        "manager@acme.test",
        "agent@acme.test",
        "collab@acme.test",
    ];
    let mut wrong = Vec::new();
    let mut anonymous = app.client();
    for (path, expected) in SETTINGS_MATRIX {
        let path = fill(path);
        for (email, status) in emails.iter().zip(expected) {
            let got = app.sign_in(email).get(&path).status;
            if got != *status {
                wrong.push(format!("{email} GET {path}: expected {status}, got {got}"));
            }
        }
        if anonymous.get(&path).status != 303 {
            wrong.push(format!("anonymous GET {path} is not sent to sign in"));
        }
    }
    for (path, allowed) in SETTINGS_POSTS {
        let path = fill(path);
        for (email, allowed) in emails.iter().zip(allowed) {
            // An empty form: allowed users get a validation answer (422) or a
            // redirect, refused users a 403. Nothing else.
            let got = app.sign_in(email).post_form(&path, &[]).status;
            let ok = if *allowed {
                got != 403 && got < 500
            } else {
                got == 403
            };
            if !ok {
                wrong.push(format!("{email} POST {path}: allowed={allowed}, got {got}"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
});

/// Issue 14.1: a custom role cannot be widened by those who hold it, nor
/// filled with flags its editor lacks, nor emptied into a role above theirs.
fn role_id_named(app: &TestApp, name: &str) -> i64 {
    use confer::db::schema::roles;
    use diesel::prelude::*;
    roles::table
        .filter(roles::name.eq(name))
        .select(roles::id)
        .first(&mut app.conn())
        .expect("role id")
}

fn role_flags(app: &TestApp, id: i64) -> String {
    use confer::db::schema::roles;
    use diesel::prelude::*;
    roles::table
        .find(id)
        .select(roles::permissions)
        .first(&mut app.conn())
        .expect("role flags")
}

db_test!(nobody_widens_a_role_beyond_their_own_flags, |app| {
    let app = app.with_org();
    app.staff();
    let mut owner = app.sign_in("owner@acme.test");
    let created = owner.post_form(
        "/settings/roles/new",
        &[
            ("name", "Lead"),
            ("flags", "users.view"),
            ("flags", "users.manage_roles"),
            ("flags", "conversations.view_all"),
        ],
    );
    created.expect_redirect("/settings/roles");
    let lead = role_id_named(&app, "Lead");
    let lee = app.user("lee@acme.test", "Lee Lead").create();
    app.sql(&format!(
        "UPDATE users SET role_id = {lead} WHERE id = {lee}"
    ));
    let before = role_flags(&app, lead);
    let roles_before = app.count("roles");
    let audit_before = app.count("audit_log");

    let mut lee = app.sign_in("lee@acme.test");
    let form = lee.get(&format!("/settings/roles/{lead}"));
    assert_eq!(form.status, 200);
    assert!(
        !form.body.contains("value=\"settings.org\""),
        "only the editor's own flags are offered"
    );
    let mut every_flag: Vec<(&str, &str)> = vec![("name", "Lead")];
    every_flag.extend(
        confer::policy::Flag::ALL
            .iter()
            .map(|f| ("flags", f.key()))
            .filter(|(_, k)| *k != "settings.plan"),
    );
    let widened = lee.post_form(&format!("/settings/roles/{lead}"), &every_flag);
    assert_eq!(widened.status, 422);
    assert!(
        widened
            .body
            .contains("A role can only hold permissions you hold yourself")
    );
    let bigger = lee.post_form(
        "/settings/roles/new",
        &[("name", "Bigger"), ("flags", "settings.org")],
    );
    assert_eq!(bigger.status, 422);
    assert_eq!(role_flags(&app, lead), before, "the role is unchanged");
    assert_eq!(app.count("roles"), roles_before, "no role was created");
    assert_eq!(app.count("audit_log"), audit_before);
    for page in ["/settings/organisation", "/settings/audit", "/settings/api"] {
        assert_eq!(lee.get(page).status, 403, "{page} stays closed");
    }

    // A role above the editor's cannot be opened, edited or deleted.
    owner
        .post_form(
            "/settings/roles/new",
            &[("name", "Org admin"), ("flags", "settings.org")],
        )
        .expect_done();
    let org_admin = role_id_named(&app, "Org admin");
    assert_eq!(lee.get(&format!("/settings/roles/{org_admin}")).status, 403);
    let narrowed = lee.post_form(
        &format!("/settings/roles/{org_admin}"),
        &[("name", "Org admin"), ("flags", "users.view")],
    );
    assert_eq!(narrowed.status, 403);
    assert_eq!(role_flags(&app, org_admin), "settings.org");
    let delete_above = lee.post_form(&format!("/settings/roles/{org_admin}/delete"), &[]);
    assert_eq!(delete_above.status, 403);
    assert_eq!(app.count(&format!("roles WHERE id = {org_admin}")), 1);

    // Deleting a role never moves its users into a role above the deleter's.
    lee.post_form(
        "/settings/roles/new",
        &[("name", "Viewer"), ("flags", "users.view")],
    )
    .expect_done();
    let viewer = role_id_named(&app, "Viewer");
    let vic = app.user("vic@acme.test", "Vic Viewer").create();
    app.sql(&format!(
        "UPDATE users SET role_id = {viewer} WHERE id = {vic}"
    ));
    let agent_role = app.role_id(BuiltinRole::Agent).to_string();
    let upward = lee.post_form(
        &format!("/settings/roles/{viewer}/delete"),
        &[("move_to", &agent_role)],
    );
    assert_eq!(upward.status, 422);
    assert!(
        upward
            .body
            .contains("cannot move to a role with permissions you do not hold")
    );
    assert_eq!(
        app.count(&format!("users WHERE id = {vic} AND role_id = {viewer}")),
        1
    );
    let sideways = lee.post_form(
        &format!("/settings/roles/{viewer}/delete"),
        &[("move_to", &lead.to_string())],
    );
    assert_eq!(
        sideways.location.as_deref(),
        Some("/settings/roles?notice=deleted")
    );
    assert_eq!(
        app.count(&format!("users WHERE id = {vic} AND role_id = {lead}")),
        1
    );
});

db_test!(the_api_never_assigns_a_role_above_the_callers, |app| {
    let app = app.with_org();
    app.staff();
    let mut owner = app.sign_in("owner@acme.test");
    owner
        .post_form(
            "/settings/roles/new",
            &[
                ("name", "People lead"),
                ("flags", "users.view"),
                ("flags", "users.manage"),
                ("flags", "users.manage_admins"),
            ],
        )
        .expect_done();
    let people = role_id_named(&app, "People lead");
    let pat = app.user("pat@acme.test", "Pat People").create();
    app.sql(&format!(
        "UPDATE users SET role_id = {people} WHERE id = {pat}"
    ));
    let token = app.api_token("pat@acme.test");
    let users_before = app.count("users");
    let mut c = app.client();
    let admin = c.api(
        "POST",
        "/api/v1/users",
        Some(&token),
        Some(&serde_json::json!({ "name": "N", "email": "n@acme.test", "role": "admin" })),
        &[],
    );
    assert_eq!(admin.status, 403, "{}", admin.body);
    let agent = c.api(
        "POST",
        "/api/v1/users",
        Some(&token),
        Some(&serde_json::json!({ "name": "N", "email": "n@acme.test", "role": "agent" })),
        &[],
    );
    assert_eq!(
        agent.status, 403,
        "Agent holds flags Pat lacks: {}",
        agent.body
    );
    let myself = c.api(
        "PATCH",
        &format!("/api/v1/users/{pat}"),
        Some(&token),
        Some(&serde_json::json!({ "role": "admin" })),
        &[],
    );
    assert_eq!(myself.status, 403, "{}", myself.body);
    assert_eq!(app.count("users"), users_before);
    assert_eq!(
        app.count(&format!("users WHERE id = {pat} AND role_id = {people}")),
        1
    );
});
