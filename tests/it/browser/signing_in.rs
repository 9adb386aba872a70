//! In Chromium: first-run setup, each role's layout, a refused form without its CSRF token, invitations accepted in the browser, deactivation ending a session.

use super::*;

db_test!(first_run_setup_in_the_browser, |app| {
    let browser = Browser::open(&app, "setup");
    browser.goto("/");
    browser.wait_for_path("/setup");
    browser.check_page("setup");
    browser.fill("#org_name", "Globex Support");
    browser.fill("#name", "Grace Hopper");
    browser.fill("#email", "grace@globex.test");
    browser.fill("#password", "short");
    browser.fill("#password_confirm", "short");
    browser.click("form[action='/setup'] button[type=submit]");
    browser.wait_for_text("#password-error", "Use at least 10 characters.");
    browser.check_page("setup-errors");
    browser.fill("#password", "a long enough password");
    browser.fill("#password_confirm", "a long enough password");
    browser.click("form[action='/setup'] button[type=submit]");
    browser.wait_for_path("/");
    assert!(browser.text("h1").contains("Hello, Grace"));
    assert_eq!(browser.body_class(), "layout-workspace");
    browser.check_page("owner-home-after-setup");
    browser.goto("/settings/organisation");
    browser.check_page("settings-organisation");
    browser.goto("/profile");
    browser.check_page("profile");
});

db_test!(each_role_signs_in_to_its_layout_and_signs_out, |app| {
    let app = app.with_org();
    let support = app.team("Support");
    app.user("manager@acme.test", "Mia Manager")
        .role(BuiltinRole::Manager)
        .in_team(support)
        .create();
    app.user("agent@acme.test", "Alan Agent")
        .in_team(support)
        .create();
    app.user("collab@acme.test", "Cora Collaborator")
        .collaborator()
        .in_team(support)
        .create();
    let browser = Browser::open(&app, "roles");
    browser.goto("/login");
    browser.check_page("login");
    browser.click("a[href='/password/forgot']");
    browser.wait_for_path("/password/forgot");
    browser.check_page("password-forgot");
    browser.goto("/contact");
    browser.check_page("contact");
    browser.goto("/login");
    let cases = [
        (
            "owner@acme.test",
            "owner",
            "layout-workspace",
            "Signed in as Owner",
        ),
        (
            "manager@acme.test",
            "manager",
            "layout-workspace",
            "Signed in as Manager",
        ),
        (
            "agent@acme.test",
            "agent",
            "layout-workspace",
            "Signed in as Agent",
        ),
        (
            "collab@acme.test",
            "collaborator",
            "layout-collaborator",
            "You are a collaborator",
        ),
    ];
    for (email, name, layout, role_line) in cases {
        browser.sign_in(email);
        assert_eq!(browser.body_class(), layout, "{email}");
        assert!(
            browser.text("[data-testid=role]").contains(role_line),
            "{email}"
        );
        let settings_links =
            browser.script("return document.querySelectorAll('a[href=\"/settings\"]').length");
        let reaches_settings = matches!(name, "owner" | "manager");
        assert_eq!(
            settings_links.as_u64() == Some(1),
            reaches_settings,
            "{email}: Settings entry ({settings_links})"
        );
        let striped =
            browser.script("return document.querySelectorAll('.avatar--collaborator').length");
        assert_eq!(
            striped.as_u64() == Some(1),
            name == "collaborator",
            "{email}: avatar line"
        );
        browser.check_page(&format!("home-{name}"));
        browser.click("form[action='/logout'] button[type=submit]");
        browser.wait_for_path("/login?signed_out=1");
        assert!(
            browser
                .text("[role=status]")
                .contains("You have been signed out.")
        );
        browser.goto("/");
        browser.wait_for_path("/login?next=/");
    }
});

db_test!(
    a_post_without_the_csrf_token_is_refused_in_the_browser,
    |app| {
        let app = app.with_org();
        let browser = Browser::open(&app, "csrf");
        browser.sign_in("owner@acme.test");
        browser.goto("/profile");
        browser.script(
            "document.querySelector('form[action=\"/profile\"] input[name=csrf_token]').remove()",
        );
        browser.fill("#name", "Mallory");
        browser.click("form[action='/profile'] button[type=submit]");
        browser.wait_for_text("h1", "The form expired");
        browser.check_page("csrf-refused");
        let user = confer::models::user::User::find_by_email(&mut app.conn(), "owner@acme.test")
            .expect("q")
            .expect("owner");
        assert_eq!(user.name, "Olivia Owner", "nothing was changed");
        browser.goto("/no-such-page");
        assert!(browser.text("h1").contains("Page not found"));
        browser.check_page("not-found");
    }
);

db_test!(
    a_manager_invites_a_collaborator_who_signs_up_in_the_browser,
    |app| {
        let app = app.with_org();
        let support = app.team("Support");
        app.user("manager@acme.test", "Mia Manager")
            .role(BuiltinRole::Manager)
            .in_team(support)
            .create();
        app.user("agent@acme.test", "Alan Agent")
            .in_team(support)
            .create();
        let sink = crate::smtp::SmtpSink::start();
        let browser = Browser::open(&app, "invite");
        browser.sign_in("manager@acme.test");
        browser.goto("/settings/users");
        browser.check_page("users-list");
        browser.click("a[href='/settings/users/new']");
        browser.wait_for_path("/settings/users/new");
        browser.check_page("add-user");
        browser.click("input[name=user_type][value=collaborator]");
        let role_hidden =
            browser.script("return document.querySelector('[data-role-field]').hidden");
        assert_eq!(
            role_hidden.as_bool(),
            Some(true),
            "no role field for collaborators"
        );
        browser.fill("#name", "Nora Notes");
        // A valid address the server refuses (the browser checks the format).
        browser.fill("#email", "AGENT@acme.test");
        browser.click("form[action='/settings/users/new'] button[type=submit]");
        browser.wait_for_text("#email-error", "already has this email address");
        assert_eq!(
            browser
                .script("return document.querySelector('#name').value")
                .as_str(),
            Some("Nora Notes")
        );
        browser.check_page("add-user-errors");
        browser.fill("#email", "nora@partner.test");
        browser.click(&format!("input[name=teams][value='{support}']"));
        browser.click("form[action='/settings/users/new'] button[type=submit]");
        browser.wait_for(|path| path.ends_with("?notice=invited"));
        let nora = app.user_id("nora@partner.test");
        assert_eq!(
            browser.path(),
            format!("/settings/users/{nora}?notice=invited")
        );
        browser.check_page("user-invited");

        assert_eq!(app.run_jobs(Some(sink.port)).sent, 1);
        let mail = sink.wait_for(1)[0].clone();
        let link = mail.link("http://127.0.0.1/invitations/").expect("link");
        browser.click("form[action='/logout'] button[type=submit]");
        browser.wait_for_path("/login?signed_out=1");
        browser.goto(link.trim_start_matches("http://127.0.0.1"));
        browser.check_page("invitation");
        browser.fill("#password", "nora's long password");
        browser.fill("#password_confirm", "nora's long password");
        browser.click("form button[type=submit]");
        browser.wait_for_path("/");
        assert_eq!(browser.body_class(), "layout-collaborator");
        browser.check_page("collaborator-after-invitation");
    }
);

db_test!(
    a_deactivated_user_is_signed_out_on_their_next_click,
    |app| {
        let app = app.with_org();
        app.user("admin@acme.test", "Ada Admin")
            .role(BuiltinRole::Admin)
            .create();
        app.user("agent@acme.test", "Alan Agent").create();
        let agent = Browser::open(&app, "deactivate-agent");
        agent.sign_in("agent@acme.test");
        let admin = Browser::open(&app, "deactivate-admin");
        admin.sign_in("admin@acme.test");
        let alan = app.user_id("agent@acme.test");
        admin.goto(&format!("/settings/users/{alan}"));
        admin.check_page("user-page");
        admin.click(&format!("a[href='/settings/users/{alan}/deactivate']"));
        admin.wait_for_path(&format!("/settings/users/{alan}/deactivate"));
        admin.check_page("deactivate-confirm");
        admin.click("form[action$='/deactivate'] button[type=submit]");
        admin.wait_for_path(&format!("/settings/users/{alan}?notice=deactivated"));
        assert!(admin.text("[role=status]").contains("deactivated"));
        agent.click("nav.mainnav a[href='/']");
        agent.wait_for_path("/login?next=/");
        agent.check_page("login-after-deactivation");
    }
);
