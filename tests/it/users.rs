//! Settings > Users: adding and inviting (through a real SMTP server),
//! editing, the rules on who may manage whom, deactivation, seats and the
//! collaborator allowance, seasonal windows, dormant seats.

use chrono::Duration;
use confer::policy::BuiltinRole;

use crate::db_test;
use crate::smtp::SmtpSink;

fn add_form<'a>(
    name: &'a str,
    email: &'a str,
    user_type: &'a str,
    role: &'a str,
) -> Vec<(&'a str, &'a str)> {
    vec![
        ("user_type", user_type),
        ("name", name),
        ("email", email),
        ("language", ""),
        ("timezone", ""),
        ("role_id", role),
        ("access", "all"),
        ("starts", ""),
        ("ends", ""),
    ]
}

db_test!(the_add_form_uses_the_contract_labels, |app| {
    let app = app.with_org();
    let mut owner = app.sign_in("owner@acme.test");
    let page = owner.get("/settings/users/new");
    assert_eq!(page.status, 200);
    for label in [
        "<legend>Type of user</legend>",
        "Full-time</label>",
        "Collaborator</label>",
        "Seasonal</label>",
        "<label for=\"name\">Name</label>",
        "<label for=\"email\">Email</label>",
        "<label for=\"language\">Language</label>",
        "<label for=\"timezone\">Timezone</label>",
        "<label for=\"role_id\">Role</label>",
        "<legend>Teams</legend>",
        "<legend>Conversation access</legend>",
        "<label for=\"starts\">Access starts</label>",
        "<label for=\"ends\">Access ends</label>",
        ">Add user</button>",
        "name=\"csrf_token\"",
    ] {
        assert!(page.body.contains(label), "missing {label}");
    }
});

db_test!(
    a_manager_invites_a_collaborator_who_signs_up_through_the_email,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let sink = SmtpSink::start();
        let mut manager = app.sign_in("manager@acme.test");
        let support_text = support.to_string();
        let mut form = add_form("Nora Notes", "Nora@Partner.test", "collaborator", "");
        form.push(("teams", &support_text));
        form.retain(|(k, _)| *k != "access");
        form.push(("access", "teams"));
        let added = manager.post_form("/settings/users/new", &form);
        added.expect_redirect("/settings/users/*");
        let nora = app.user_id("nora@partner.test");
        assert_eq!(
            added.location,
            Some(format!("/settings/users/{nora}?notice=invited"))
        );
        assert_eq!(app.count("invitations"), 1);
        assert_eq!(
            app.count("outbox WHERE status = 'queued' AND recipient = 'nora@partner.test'"),
            1,
            "queued in the same transaction"
        );
        let list = manager.get("/settings/users?tab=pending");
        assert!(list.body.contains("Nora Notes") && list.body.contains("Invitation queued"));

        assert_eq!(app.run_jobs(Some(sink.port)).sent, 1);
        let mail = &sink.wait_for(1)[0];
        assert_eq!(mail.to, vec!["nora@partner.test".to_string()]);
        assert_eq!(mail.from, "confer@localhost", "sent from CONFER_MAIL_FROM");
        assert_eq!(
            mail.header("Subject").as_deref(),
            Some("You're invited to Acme Support on Confer")
        );
        let message_id = mail.header("Message-ID").unwrap_or_default();
        assert!(
            message_id.starts_with("<confer.") && message_id.ends_with("@localhost>"),
            "every outgoing mail has a Message-ID: {message_id:?}"
        );
        let link = mail
            .link("http://127.0.0.1/invitations/")
            .expect("link in the email");
        let path = link.trim_start_matches("http://127.0.0.1");
        assert!(
            manager
                .get("/settings/users?tab=pending")
                .body
                .contains("Invitation sent")
        );

        let mut nora_client = app.client();
        let page = nora_client.get(path);
        assert_eq!(page.status, 200);
        assert!(page.body.contains("Welcome, Nora Notes"));
        let short = nora_client.post_form(
            path,
            &[("password", "short"), ("password_confirm", "short")],
        );
        assert_eq!(short.status, 422);
        let accepted = nora_client.post_form(
            path,
            &[
                ("password", "nora's long password"),
                ("password_confirm", "nora's long password"),
            ],
        );
        assert_eq!(accepted.location.as_deref(), Some("/"));
        let home = nora_client.get("/");
        assert!(
            home.body.contains("layout-collaborator"),
            "lands in the collaborator layout"
        );
        let again = app.client().get(path);
        assert_eq!(again.status, 410);
        assert!(again.body.contains("This link no longer works"));
        assert_eq!(app.count("users WHERE email = 'nora@partner.test' AND role_id IS NULL AND user_type = 'collaborator'"), 1);
        assert_eq!(app.count("audit_log WHERE action = 'user.invited'"), 1);
    }
);

db_test!(
    invitations_speak_the_invitees_language_and_can_be_resent_or_revoked,
    |app| {
        let app = app.with_org();
        let sink = SmtpSink::start();
        let mut owner = app.sign_in("owner@acme.test");
        let agent_role = app.role_id(BuiltinRole::Agent).to_string();
        let mut form = add_form("Lucía Gómez", "lucia@acme.test", "full_time", &agent_role);
        form.retain(|(k, _)| *k != "language");
        form.push(("language", "es"));
        assert_eq!(owner.post_form("/settings/users/new", &form).status, 303);
        app.run_jobs(Some(sink.port));
        let first = sink.wait_for(1)[0].clone();
        assert!(
            first
                .header("Subject")
                .unwrap_or_default()
                .contains("Acme Support")
        );
        assert!(
            first.body().contains("Hola, Lucía"),
            "Spanish body: {}",
            first.body()
        );
        let old_link = first.link("http://127.0.0.1/invitations/").expect("link");

        let lucia = app.user_id("lucia@acme.test");
        let resent = owner.post_form(&format!("/settings/users/{lucia}/resend"), &[]);
        assert_eq!(
            resent.location,
            Some(format!("/settings/users/{lucia}?notice=resent"))
        );
        app.run_jobs(Some(sink.port));
        let new_link = sink.wait_for(2)[1]
            .link("http://127.0.0.1/invitations/")
            .expect("link");
        assert_ne!(old_link, new_link);
        let mut client = app.client();
        assert_eq!(
            client
                .get(old_link.trim_start_matches("http://127.0.0.1"))
                .status,
            410,
            "the old link died"
        );

        app.clock.advance(Duration::days(8));
        let expired = client.get(new_link.trim_start_matches("http://127.0.0.1"));
        assert_eq!(expired.status, 410);
        assert!(
            expired.body.contains("Ha caducado") || expired.body.contains("caduc"),
            "{}",
            expired.body
        );

        let mut owner = app.sign_in("owner@acme.test");
        let revoked = owner.post_form(&format!("/settings/users/{lucia}/revoke"), &[]);
        assert_eq!(
            revoked.location.as_deref(),
            Some("/settings/users?tab=pending&notice=revoked")
        );
        assert_eq!(app.count("users WHERE email = 'lucia@acme.test'"), 0);
        assert_eq!(
            app.count("audit_log WHERE action = 'user.invitation_revoked'"),
            1
        );
    }
);

db_test!(the_add_form_explains_errors_and_keeps_input, |app| {
    let app = app.with_org();
    app.staff();
    let mut owner = app.sign_in("owner@acme.test");
    let agent_role = app.role_id(BuiltinRole::Agent).to_string();
    let taken = owner.post_form(
        "/settings/users/new",
        &add_form("Second Alan", "AGENT@Acme.test", "full_time", &agent_role),
    );
    assert_eq!(taken.status, 422);
    assert!(
        taken
            .body
            .contains("A user or pending invitation already has this email address.")
    );
    assert!(taken.body.contains("value=\"Second Alan\""), "input kept");

    let collaborator_with_role = owner.post_form(
        "/settings/users/new",
        &add_form("Cole", "cole@acme.test", "collaborator", &agent_role),
    );
    // The role field (left at Agent without scripts) is ignored for them.
    assert_eq!(
        collaborator_with_role.status, 303,
        "{}",
        collaborator_with_role.body
    );
    assert_eq!(
        app.count("users WHERE email = 'cole@acme.test' AND user_type = 'collaborator' AND role_id IS NULL"),
        1
    );

    let mut seasonal = add_form("Sam Season", "sam@acme.test", "seasonal", &agent_role);
    seasonal.retain(|(k, _)| !["starts", "ends"].contains(k));
    seasonal.extend([("starts", "2027-02-01"), ("ends", "2027-01-01")]);
    let bad_window = owner.post_form("/settings/users/new", &seasonal);
    assert!(
        bad_window
            .body
            .contains("The access window must end on or after the day it starts.")
    );
    assert!(bad_window.body.contains("value=\"2027-02-01\""));

    // Every problem at once: missing dates and a taken address together.
    let mut everything = add_form("Al Again", "agent@acme.test", "seasonal", &agent_role);
    everything.retain(|(k, _)| !["starts", "ends"].contains(k));
    let all_at_once = owner.post_form("/settings/users/new", &everything);
    assert_eq!(all_at_once.status, 422);
    for field in ["starts", "ends"] {
        assert!(
            all_at_once.body.contains(&format!(
                "id=\"{field}-error\">Enter a date, or pick one from the calendar."
            )),
            "{field} explained beside it"
        );
    }
    assert!(
        all_at_once
            .body
            .contains("A user or pending invitation already has this email address.")
    );
    // Summed up at the top, each linking to its field's message.
    let summary = all_at_once
        .body
        .split("data-error-summary")
        .nth(1)
        .unwrap_or_default();
    for field in ["starts", "ends", "email"] {
        assert!(
            summary.contains(&format!("href=\"#{field}-error\"")),
            "{field} in the summary"
        );
    }
    assert_eq!(app.count("users WHERE email = 'sam@acme.test'"), 0);

    // A pending invitation also holds its address.
    assert_eq!(
        owner
            .post_form(
                "/settings/users/new",
                &add_form("Pat", "pat@acme.test", "full_time", &agent_role)
            )
            .status,
        303
    );
    let again = owner.post_form(
        "/settings/users/new",
        &add_form("Pat Again", "PAT@acme.test", "full_time", &agent_role),
    );
    assert!(again.body.contains("already has this email address"));
});

db_test!(
    managers_cannot_escalate_and_nobody_touches_the_owner,
    |app| {
        let app = app.with_org();
        app.staff();
        let admin_role = app.role_id(BuiltinRole::Admin).to_string();
        let mut manager = app.sign_in("manager@acme.test");
        let form = manager.get("/settings/users/new");
        assert!(
            !form.body.contains(">Admin</option>"),
            "admins are not offered to managers"
        );
        let escalate = manager.post_form(
            "/settings/users/new",
            &add_form("Evil", "evil@acme.test", "full_time", &admin_role),
        );
        assert_eq!(escalate.status, 422);
        assert!(escalate.body.contains("You cannot give this role"));
        let me = app.user_id("manager@acme.test");
        let mut self_promotion =
            add_form("Mia Manager", "manager@acme.test", "full_time", &admin_role);
        self_promotion.push(("teams", ""));
        let refused = manager.post_form(&format!("/settings/users/{me}"), &self_promotion);
        assert_eq!(refused.status, 422);
        assert_eq!(
            app.count(&format!("users WHERE id = {me} AND role_id = {admin_role}")),
            0
        );
        let admin = app.user_id("admin@acme.test");
        assert_eq!(
            manager
                .get(&format!("/settings/users/{admin}/deactivate"))
                .status,
            403
        );
        assert_eq!(
            manager
                .post_form(
                    &format!("/settings/users/{admin}/deactivate"),
                    &[("reassign_to", "")]
                )
                .status,
            403
        );

        let owner = app.user_id("owner@acme.test");
        let mut admin_client = app.sign_in("admin@acme.test");
        assert_eq!(
            admin_client
                .post_form(
                    &format!("/settings/users/{owner}/deactivate"),
                    &[("reassign_to", "")]
                )
                .status,
            403
        );
        let demote = admin_client.post_form(
            &format!("/settings/users/{owner}"),
            &add_form("Olivia Owner", "owner@acme.test", "full_time", &admin_role),
        );
        assert_eq!(demote.status, 403);
        let page = admin_client.get(&format!("/settings/users/{owner}"));
        assert!(
            page.body
                .contains("The owner can only be changed by the owner")
        );
        assert!(!page.body.contains(">Deactivate</a>"));
        let yourself = admin_client.get(&format!("/settings/users/{admin}/deactivate"));
        assert!(yourself.body.contains("You cannot deactivate yourself."));
        assert_eq!(
            admin_client
                .post_form(
                    &format!("/settings/users/{admin}/deactivate"),
                    &[("reassign_to", "")]
                )
                .status,
            403
        );
        assert_eq!(app.count("users WHERE active = FALSE"), 0);
    }
);

db_test!(the_last_admin_stays, |app| {
    let app = app.with_org();
    app.user("admin@acme.test", "Ada Admin")
        .role(BuiltinRole::Admin)
        .create();
    app.user("admin2@acme.test", "Abe Admin")
        .role(BuiltinRole::Admin)
        .create();
    let mut owner = app.sign_in("owner@acme.test");
    let ada = app.user_id("admin@acme.test");
    let abe = app.user_id("admin2@acme.test");
    assert_eq!(
        owner
            .post_form(
                &format!("/settings/users/{ada}/deactivate"),
                &[("reassign_to", "")]
            )
            .status,
        303
    );
    let last = owner.post_form(
        &format!("/settings/users/{abe}/deactivate"),
        &[("reassign_to", "")],
    );
    assert_eq!(last.status, 422);
    assert!(last.body.contains("This is the last active admin."));
    let agent_role = app.role_id(BuiltinRole::Agent).to_string();
    let demote = owner.post_form(
        &format!("/settings/users/{abe}"),
        &add_form("Abe Admin", "admin2@acme.test", "full_time", &agent_role),
    );
    assert_eq!(
        demote.status, 422,
        "the last admin cannot be demoted either"
    );
    assert!(demote.body.contains("This is the last active admin."));
    assert_eq!(
        app.count("users WHERE active = TRUE AND email = 'admin2@acme.test'"),
        1
    );
});

db_test!(deactivation_signs_out_and_hands_conversations_back, |app| {
    let app = app.with_org();
    let support = app.staff();
    let agent = app.user_id("agent@acme.test");
    let manager = app.user_id("manager@acme.test");
    let customer = app.customer("Carl Customer", "carl@customer.test");
    let open1 = app.conversation("Broken", customer, Some(support), Some(agent), "open");
    let open2 = app.conversation("Refund", customer, Some(support), Some(agent), "pending");
    let done = app.conversation("Old", customer, Some(support), Some(agent), "done");
    let mut agent_client = app.sign_in("agent@acme.test");
    let mut admin = app.sign_in("admin@acme.test");
    let confirm = admin.get(&format!("/settings/users/{agent}/deactivate"));
    assert!(confirm.body.contains("Hand their 2 open conversations to"));
    assert!(confirm.body.contains("unassigned queue</option>"));
    let manager_text = manager.to_string();
    let response = admin.post_form(
        &format!("/settings/users/{agent}/deactivate"),
        &[("reassign_to", &manager_text)],
    );
    assert_eq!(
        response.location,
        Some(format!("/settings/users/{agent}?notice=deactivated"))
    );
    assert!(!agent_client.is_signed_in(), "signed out at once");
    assert_eq!(
        app.count(&format!(
            "conversations WHERE assignee_id = {manager} AND id IN ({open1}, {open2})"
        )),
        2
    );
    assert_eq!(
        app.count(&format!(
            "conversations WHERE assignee_id = {agent} AND id = {done}"
        )),
        1,
        "done ones keep their history"
    );
    assert_eq!(app.count("audit_log WHERE action = 'user.deactivated'"), 1);
    assert!(
        admin
            .get("/settings/users?tab=deactivated")
            .body
            .contains("Alan Agent")
    );

    // Reactivate, then deactivate again handing back to the team's queue.
    assert_eq!(
        admin
            .post_form(&format!("/settings/users/{agent}/reactivate"), &[])
            .status,
        303
    );
    let again = app.conversation("New", customer, Some(support), Some(agent), "open");
    admin
        .post_form(
            &format!("/settings/users/{agent}/deactivate"),
            &[("reassign_to", "")],
        )
        .expect_done();
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {again} AND assignee_id IS NULL AND team_id = {support}"
        )),
        1
    );
});

db_test!(the_collaborator_allowance_is_enforced_with_numbers, |app| {
    let app = app.with_org();
    app.staff();
    let mut owner = app.sign_in("owner@acme.test");
    let saved = owner.post_form(
        "/settings/organisation",
        &[
            ("name", "Acme Support"),
            ("default_language", "en"),
            ("timezone", "Europe/Berlin"),
            ("allowance", "fixed"),
            ("allowance_fixed", "1"),
        ],
    );
    saved.expect_redirect("/settings/organisation");
    let list = owner.get("/settings/users");
    assert!(
        list.body.contains("<dd>1 / 1</dd>"),
        "collaborators used / allowed"
    );
    let refused = owner.post_form(
        "/settings/users/new",
        &add_form("Extra", "extra@acme.test", "collaborator", ""),
    );
    assert_eq!(refused.status, 422);
    assert!(
        refused
            .body
            .contains("Your organisation may have 1 collaborator and has 1.")
    );
    let cora = app.user_id("collab@acme.test");
    owner
        .post_form(
            &format!("/settings/users/{cora}/deactivate"),
            &[("reassign_to", "")],
        )
        .expect_done();
    assert_eq!(
        owner
            .post_form(
                "/settings/users/new",
                &add_form("Extra", "extra@acme.test", "collaborator", "")
            )
            .status,
        303
    );
    let reactivate = owner.post_form(&format!("/settings/users/{cora}/reactivate"), &[]);
    assert_eq!(reactivate.status, 422);
    assert!(
        reactivate
            .body
            .contains("may have 1 collaborator and has 1")
    );
    assert_eq!(
        app.count("audit_log WHERE action = 'organisation.updated'"),
        1
    );

    owner
        .post_form(
            "/settings/organisation",
            &[
                ("name", "Acme Support"),
                ("default_language", "en"),
                ("timezone", "Europe/Berlin"),
                ("allowance", "full_time_seats"),
                ("allowance_fixed", ""),
            ],
        )
        .expect_done();
    // Full-time seats: owner, admin, manager, agent = 4.
    assert!(owner.get("/settings/users").body.contains("<dd>1 / 4</dd>"));
});

db_test!(
    seats_count_pending_invitations_and_seasonal_windows,
    |app| {
        let app = app.with_org();
        app.staff();
        let today = app.clock.now().date();
        app.user("now@acme.test", "Now Season")
            .seasonal(today - Duration::days(1), today + Duration::days(5))
            .create();
        app.user("later@acme.test", "Later Season")
            .seasonal(today + Duration::days(10), today + Duration::days(20))
            .create();
        let mut owner = app.sign_in("owner@acme.test");
        let agent_role = app.role_id(BuiltinRole::Agent).to_string();
        owner
            .post_form(
                "/settings/users/new",
                &add_form("Pending Pete", "pete@acme.test", "full_time", &agent_role),
            )
            .expect_done();
        let list = owner.get("/settings/users");
        assert!(
            list.body
                .contains("4 active + 1 pending invitations. An invitation holds a seat"),
            "{}",
            list.body
        );
        assert!(list.body.contains("1 more scheduled to start later."));
        assert!(
            list.body
                .contains(&format!("Access starts {}", today + Duration::days(10)))
        );
    }
);

db_test!(the_users_list_filters_and_pages, |app| {
    let app = app.with_org();
    let support = app.staff();
    for n in 0..60 {
        app.user(&format!("bulk{n:02}@acme.test"), &format!("Bulk {n:02}"))
            .create();
    }
    let mut admin = app.sign_in("admin@acme.test");
    let first = admin.get("/settings/users");
    assert!(first.body.contains("Ada Admin") && first.body.contains("Bulk 00"));
    let next = first
        .body
        .split("rel=\"next\"")
        .next()
        .and_then(|b| b.rsplit("href=\"").next())
        .map(|h| {
            h.split('"')
                .next()
                .unwrap_or("")
                .replace("&amp;", "&")
                .replace("&#38;", "&")
        })
        .expect("next link");
    let second = admin.get(&next);
    assert_eq!(second.status, 200, "{next}");
    assert!(
        second.body.contains("Olivia Owner"),
        "the second page continues after the first: {next} {}",
        second.body
    );
    assert!(!second.body.contains("admin@acme.test"));
    // What the filters list: the table (the bulk form names everyone who
    // may take over conversations).
    let listed = |page: &crate::support::Response| {
        page.body
            .split("<table class=\"table table--users\">")
            .nth(1)
            .and_then(|rest| rest.split("</table>").next())
            .unwrap_or_default()
            .to_string()
    };
    let search = listed(&admin.get("/settings/users?q=CORA"));
    assert!(search.contains("collab@acme.test") && !search.contains("Bulk 01"));
    let collaborators = admin.get("/settings/users?user_type=collaborator");
    assert!(
        listed(&collaborators).contains("Cora Collaborator")
            && !listed(&collaborators).contains("Alan Agent")
    );
    let team = listed(&admin.get(&format!("/settings/users?team={support}")));
    assert!(team.contains("Alan Agent") && !team.contains("Bulk 05"));
    let manager_role = app.role_id(BuiltinRole::Manager);
    let managers = listed(&admin.get(&format!("/settings/users?role={manager_role}")));
    assert!(managers.contains("Mia Manager") && !managers.contains("Alan Agent"));
    assert!(collaborators.body.contains("avatar avatar--collaborator"));
});

db_test!(edits_apply_on_the_next_request, |app| {
    let app = app.with_org();
    app.staff();
    let mut agent = app.sign_in("agent@acme.test");
    assert!(agent.get("/").body.contains("Signed in as Agent"));
    let alan = app.user_id("agent@acme.test");
    let manager_role = app.role_id(BuiltinRole::Manager).to_string();
    let mut admin = app.sign_in("admin@acme.test");
    let saved = admin.post_form(
        &format!("/settings/users/{alan}"),
        &add_form("Alan Agent", "agent@acme.test", "full_time", &manager_role),
    );
    assert_eq!(
        saved.location,
        Some(format!("/settings/users/{alan}?notice=saved"))
    );
    assert!(agent.get("/").body.contains("Signed in as Manager"));
    assert_eq!(agent.get("/settings/users").status, 200);
    let to_collaborator = admin.post_form(
        &format!("/settings/users/{alan}"),
        &add_form("Alan Agent", "agent@acme.test", "collaborator", ""),
    );
    to_collaborator.expect_redirect("/settings/users/*");
    assert!(agent.get("/").body.contains("layout-collaborator"));
    assert_eq!(agent.get("/settings/users").status, 403);
    assert_eq!(
        app.count(&format!("users WHERE id = {alan} AND role_id IS NULL")),
        1,
        "a collaborator holds no role"
    );
    let entry = app.count("audit_log WHERE action = 'user.updated' AND before_state LIKE '%\"type\":\"full_time\"%' AND after_state LIKE '%\"type\":\"collaborator\"%'");
    assert_eq!(entry, 1, "before and after are recorded");
});

db_test!(seasonal_windows_close_by_themselves, |app| {
    let app = app.with_org();
    let support = app.team("Support");
    let today = app.clock.now().date();
    app.user("temp@acme.test", "Tina Temp")
        .seasonal(today - Duration::days(10), today + Duration::days(1))
        .in_team(support)
        .create();
    let tina = app.user_id("temp@acme.test");
    let customer = app.customer("Carl Customer", "carl@customer.test");
    let open = app.conversation("Help", customer, Some(support), Some(tina), "open");
    let mut client = app.sign_in("temp@acme.test");
    assert_eq!(
        app.run_jobs(None).windows_closed,
        0,
        "nothing to do inside the window"
    );
    app.clock.advance(Duration::days(3));
    assert!(!client.is_signed_in());
    assert_eq!(app.run_jobs(None).windows_closed, 1);
    assert_eq!(app.run_jobs(None).windows_closed, 0, "handled once");
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {open} AND assignee_id IS NULL AND team_id = {support}"
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "audit_log WHERE action = 'user.window_ended' AND target_id = {tina}"
        )),
        1
    );
});

db_test!(an_smtp_outage_delays_mail_but_loses_none, |app| {
    let app = app.with_org();
    let sink = SmtpSink::start();
    sink.set_down(true);
    let mut owner = app.sign_in("owner@acme.test");
    let agent_role = app.role_id(BuiltinRole::Agent).to_string();
    for n in 0..3 {
        let email = format!("new{n}@acme.test");
        owner
            .post_form(
                "/settings/users/new",
                &add_form("New Person", &email, "full_time", &agent_role),
            )
            .expect_done();
    }
    let round = app.run_jobs(Some(sink.port));
    assert_eq!((round.sent, round.failed), (0, 3));
    assert_eq!(
        app.count("outbox WHERE status = 'failing' AND attempts = 1 AND last_error IS NOT NULL"),
        3
    );
    let pending = owner.get("/settings/users?tab=pending");
    assert!(
        pending.body.contains("Invitation not delivered yet"),
        "the UI shows the failure"
    );
    assert_eq!(
        app.run_jobs(Some(sink.port)).failed,
        0,
        "backoff: not retried at once"
    );
    sink.set_down(false);
    app.clock.advance(Duration::minutes(2));
    assert_eq!(app.run_jobs(Some(sink.port)).sent, 3);
    assert_eq!(sink.wait_for(3).len(), 3);
    assert_eq!(app.count("outbox WHERE status = 'sent'"), 3);
    assert_eq!(
        app.run_jobs(Some(sink.port)).sent,
        0,
        "nothing is sent twice"
    );
});

db_test!(last_active_is_written_at_most_once_a_minute, |app| {
    let app = app.with_org();
    let mut owner = app.sign_in("owner@acme.test");
    owner.get("/").expect_done();
    let first = confer::models::user::User::find_by_email(&mut app.conn(), "owner@acme.test")
        .expect("q")
        .expect("u")
        .last_active_at;
    app.clock.advance(Duration::seconds(30));
    owner.get("/").expect_done();
    let second = confer::models::user::User::find_by_email(&mut app.conn(), "owner@acme.test")
        .expect("q")
        .expect("u")
        .last_active_at;
    assert_eq!(first, second);
    app.clock.advance(Duration::seconds(40));
    owner.get("/").expect_done();
    let third = confer::models::user::User::find_by_email(&mut app.conn(), "owner@acme.test")
        .expect("q")
        .expect("u")
        .last_active_at;
    assert!(third > second);
});

db_test!(dormant_seats_report_and_export, |app| {
    let app = app.with_org();
    app.staff();
    app.sign_in("agent@acme.test");
    app.clock.advance(Duration::days(45));
    let mut admin = app.sign_in("admin@acme.test");
    let report = admin.get("/settings/users/dormant");
    assert_eq!(report.status, 200);
    assert!(report.body.contains("Alan Agent"), "idle for 45 days");
    assert!(report.body.contains("Mia Manager"), "never active");
    assert!(!report.body.contains("admin@acme.test"), "active just now");
    let csv = admin.get("/settings/users/dormant.csv?days=30");
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    let lines: Vec<&str> = csv.body.lines().collect();
    assert_eq!(lines[0], "name,email,type,role,teams,last_active");
    assert!(
        lines
            .iter()
            .any(|l| l.starts_with("Alan Agent,agent@acme.test,Full-time,Agent,Support,"))
    );
    let filtered = admin.get("/settings/users?dormant=30");
    assert!(filtered.body.contains("Alan Agent") && !filtered.body.contains("admin@acme.test"));
});

db_test!(effective_permissions_explain_each_decision, |app| {
    let app = app.with_org();
    app.staff();
    let mut admin = app.sign_in("admin@acme.test");
    let cora = app.user_id("collab@acme.test");
    let page = admin.get(&format!("/settings/users/{cora}"));
    assert!(page.body.contains("Effective permissions"));
    assert!(page.body.contains("Collaborators may never do this."));
    assert!(page.body.contains("Collaborators may always do this."));
    assert!(page.body.contains("Sees all conversations"));
    let alan = app.user_id("agent@acme.test");
    let agent = admin.get(&format!("/settings/users/{alan}"));
    assert!(agent.body.contains("The role Agent allows it."));
    assert!(agent.body.contains("The role Agent does not allow it."));
});

db_test!(timezone_pickers_list_places_by_region, |app| {
    let app = app.with_org();
    let mut owner = app.sign_in("owner@acme.test");
    let profile = owner.get("/profile").body;
    assert!(profile.contains("<optgroup label=\"Europe\">"));
    assert!(profile.contains("<option value=\"Europe/Berlin\">Berlin (UTC+0"));
    assert!(profile.contains(
        "<option value=\"America/Argentina/Buenos_Aires\">Argentina / Buenos Aires (UTC-03:00)"
    ));
    for legacy in [
        "CST6CDT",
        "GB-Eire",
        "W-SU",
        "Zulu",
        "US/Eastern",
        "Etc/GMT+5",
    ] {
        assert!(
            !profile.contains(&format!("value=\"{legacy}\"")),
            "{legacy} is not offered"
        );
    }
    // A legacy name saved before (through the API, say) stays selected.
    app.sql("UPDATE users SET timezone = 'US/Eastern' WHERE email = 'owner@acme.test'");
    let profile = owner.get("/profile").body;
    assert!(profile.contains("<option value=\"US/Eastern\" selected>US/Eastern (UTC-0"));
});

db_test!(a_seasonal_invitee_learns_when_their_access_starts, |app| {
    let app = app.with_org();
    let sink = SmtpSink::start();
    let mut owner = app.sign_in("owner@acme.test");
    let agent_role = app.role_id(BuiltinRole::Agent).to_string();
    let today = app.clock.now().date();
    let en = confer::i18n::Tr::new(confer::i18n::Lang::En);
    let (starts, ends) = (today + Duration::days(5), today + Duration::days(30));
    let (starts_text, ends_text) = (starts.to_string(), ends.to_string());
    let mut form = add_form("Sam Season", "sam@acme.test", "seasonal", &agent_role);
    form.retain(|(k, _)| !["starts", "ends"].contains(k));
    form.extend([
        ("starts", starts_text.as_str()),
        ("ends", ends_text.as_str()),
    ]);
    let added = owner.post_form("/settings/users/new", &form);
    assert_eq!(added.status, 303, "{}", added.body);
    let sam = app.user_id("sam@acme.test");
    let page = owner.get(&format!("/settings/users/{sam}"));
    assert!(!page.body.contains("This access window ended"));

    // The email says when access runs.
    app.run_jobs(Some(sink.port));
    let mail = sink.wait_for(1)[0].clone();
    let (from, to) = (
        confer::pages::format_date(starts, en),
        confer::pages::format_date(ends, en),
    );
    assert!(
        mail.body()
            .contains(&format!("Your access runs from {from} to {to}.")),
        "{}",
        mail.body()
    );
    let link = mail.link("http://127.0.0.1/invitations/").expect("link");
    let path = link.trim_start_matches("http://127.0.0.1");

    // The page says so too, and setting the password does not lead to
    // a bare sign-in page.
    let mut sam_client = app.client();
    let invitation = sam_client.get(path);
    assert_eq!(invitation.status, 200);
    assert!(
            invitation.body.contains(&format!(
                "Your access starts on {from}. You can sign in from that day. You can set your password now."
            )),
            "{}",
            invitation.body
        );
    let accepted = sam_client.post_form(
        path,
        &[
            ("password", "sam's long password"),
            ("password_confirm", "sam's long password"),
        ],
    );
    assert_eq!(accepted.status, 200);
    assert!(accepted.body.contains("Your password is set"));
    assert!(
        accepted
            .body
            .contains(&format!("Your access starts on {from}."))
    );
    assert!(!sam_client.is_signed_in());
    assert_eq!(
        app.count("users WHERE email = 'sam@acme.test' AND password_hash IS NOT NULL"),
        1
    );
    app.clock.advance(Duration::days(5));
    let signed_in = sam_client.post_form(
        "/login",
        &[
            ("email", "sam@acme.test"),
            ("password", "sam's long password"),
        ],
    );
    assert_eq!(signed_in.location.as_deref(), Some("/"));

    // Whoever invites someone whose window has already ended is warned.
    let today = app.clock.now().date();
    let (starts_text, ends_text) = (
        (today - Duration::days(30)).to_string(),
        (today - Duration::days(2)).to_string(),
    );
    let mut form = add_form("Liz Late", "liz@acme.test", "seasonal", &agent_role);
    form.retain(|(k, _)| !["starts", "ends"].contains(k));
    form.extend([
        ("starts", starts_text.as_str()),
        ("ends", ends_text.as_str()),
    ]);
    let mut owner = app.sign_in("owner@acme.test");
    let added = owner.post_form("/settings/users/new", &form);
    let location = added.location.expect("to the new user's page");
    let page = owner.get(&location);
    let ended = confer::pages::format_date(today - Duration::days(2), en);
    assert!(
        page.body.contains(&format!(
            "This access window ended on {ended}: Liz Late cannot sign in until you extend it."
        )),
        "{}",
        page.body
    );
});
