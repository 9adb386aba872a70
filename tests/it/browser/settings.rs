//! In Chromium: the import preview and every settings and customer page checked by axe.

use super::*;

db_test!(the_import_preview_in_the_browser, |app| {
    let app = app.with_org();
    app.team("Support");
    app.user("admin@acme.test", "Ada Admin")
        .role(BuiltinRole::Admin)
        .create();
    let file = std::env::temp_dir().join(format!("confer-import-{}.csv", rand::random::<u32>()));
    std::fs::write(
        &file,
        "name,email,type,role,teams\nAda Lovelace,ada@new.test,full_time,agent,Support\nBad Row,nope,full_time,agent,\n",
    )
    .expect("csv");
    let browser = Browser::open(&app, "import");
    browser.sign_in("admin@acme.test");
    browser.goto("/settings/users/import");
    browser.check_page("import");
    browser.fill("#file", &file.to_string_lossy());
    browser.click("form[enctype='multipart/form-data'] button[type=submit]");
    // The preview answers the post at the same address, the CSRF token
    // in the body, never in the URL.
    browser.wait_for_text(
        "[data-testid=import-summary]",
        "1 to add, 0 to update, 0 unchanged, 1 with errors.",
    );
    assert_eq!(browser.path(), "/settings/users/import");
    browser.check_page("import-preview");
    browser.click("form[action^='/settings/users/import/confirm'] button[type=submit]");
    browser.wait_for_path("/settings/users?notice=imported&added=1&updated=0");
    assert_eq!(app.count("users WHERE email = 'ada@new.test'"), 1);
    let _ = std::fs::remove_file(file);
});

db_test!(every_settings_page_passes_axe, |app| {
    let app = app.with_org();
    let team = app.staff();
    let agent = app.user_id("agent@acme.test");
    app.sql(
        "INSERT INTO roles (key, name, builtin, permissions, created_at) \
         VALUES ('custom-x', 'Readers', FALSE, 'kb.view reports.view', '2026-01-01 00:00:00')",
    );
    let role = app.count("roles WHERE builtin = FALSE");
    assert_eq!(role, 1);
    let carl = app.customer("Carl Customer", "carl@customer.test");
    let case = app.conversation("Printer on fire", carl, Some(team), None, "open");
    let browser = Browser::open(&app, "sweep");
    browser.sign_in("owner@acme.test");
    // Something in the audit log, and a deactivated user to reactivate.
    browser.goto("/settings/teams");
    browser.fill("#name", "Escalations");
    browser.click("form[action='/settings/teams'] button[type=submit]");
    browser.wait_for(|path| path.ends_with("?notice=created"));
    // A mapping, so Settings > Provisioning shows its table.
    browser.goto("/settings/provisioning");
    browser.fill("#match_value", "Support experts");
    browser.click("form[action='/settings/provisioning'] button[type=submit]");
    browser.wait_for(|path| path.ends_with("?notice=added"));
    let pages = [
        ("teams", "/settings/teams".to_string()),
        ("team", format!("/settings/teams/{team}")),
        ("roles", "/settings/roles".to_string()),
        ("role-new", "/settings/roles/new".to_string()),
        ("audit", "/settings/audit".to_string()),
        ("dormant", "/settings/users/dormant".to_string()),
        ("pending", "/settings/users?tab=pending".to_string()),
        ("user-agent", format!("/settings/users/{agent}")),
        (
            "user-sight",
            format!("/settings/users/{agent}?conversation={case}"),
        ),
        (
            "user-sight-words",
            format!("/settings/users/{agent}?conversation=printer"),
        ),
        ("audience", format!("/conversations/{case}/audience")),
        ("deactivate", format!("/settings/users/{agent}/deactivate")),
        ("organisation", "/settings/organisation".to_string()),
        ("collaborators", "/settings/collaborators".to_string()),
        ("provisioning", "/settings/provisioning".to_string()),
        ("outbox", "/settings/outbox".to_string()),
        ("email", "/settings/email".to_string()),
    ];
    for (name, path) in pages {
        browser.goto(&path);
        assert_eq!(browser.path(), path, "{name} did not open");
        browser.check_both_widths(name);
    }
    browser.goto("/settings/roles");
    browser.click("a[href^='/settings/roles/']:not([href='/settings/roles/new'])");
    browser.wait_for(|path| path.starts_with("/settings/roles/") && path != "/settings/roles/new");
    browser.check_page("role-edit");
});

db_test!(customer_pages_pass_axe_in_both_layouts, |app| {
    let app = app.with_org();
    app.staff();
    let carl = app.customer_with_phone();
    let browser = Browser::open(&app, "customers");
    browser.sign_in("agent@acme.test");
    browser.goto("/customers");
    browser.check_page("customers-agent");
    browser.click("a[href='/customers/new']");
    browser.wait_for_path("/customers/new");
    browser.check_page("customer-new");
    // A refused form: the focus goes to the summary of its problems, whose
    // links lead into the fields.
    browser.fill("#name", "Carla Copy");
    browser.fill("#email", "carl@customer.test");
    browser.click("form[action='/customers/new'] button[type=submit]");
    browser.wait_for_text("[data-error-summary]", "email");
    assert_eq!(
        browser.script("return document.activeElement.hasAttribute('data-error-summary')"),
        serde_json::json!(true),
        "focus on the summary"
    );
    browser.check_page("customer-errors");
    browser.click("[data-error-summary] a");
    assert_eq!(
        browser.script("return document.activeElement.id"),
        serde_json::json!("email")
    );
    browser.goto("/organizations/new");
    browser.fill("#name", "Globex");
    browser.fill("#domains", "customer.test");
    browser.click("form[action='/organizations/new'] button[type=submit]");
    browser.wait_for(|path| path.ends_with("?notice=saved"));
    browser.check_page("organization-agent");
    browser.goto("/organizations");
    browser.check_page("organizations-agent");
    browser.click("form[action='/logout'] button[type=submit]");
    browser.wait_for_path("/login?signed_out=1");
    browser.sign_in("collab@acme.test");
    browser.goto(&format!("/customers/{carl}"));
    browser.fill(
        "#body",
        "Prefers **email**; see [docs](https://example.com/docs).",
    );
    browser.click("#notes form button[type=submit]");
    browser.wait_for_text("#notes .note-body", "Prefers email");
    assert_eq!(browser.body_class(), "layout-collaborator");
    browser.check_page("customer-collaborator");
});

db_test!(settings_users_fit_a_laptop_in_every_language, |app| {
    let app = app.with_org();
    let support = app.staff();
    let agent = app.user_id("agent@acme.test");
    let cora = app.user_id("collab@acme.test");
    let carl = app.customer("Carl Customer", "carl@customer.test");
    let case = app.conversation("Printer on fire", carl, Some(support), None, "open");
    app.sql(&format!(
        "INSERT INTO access_grants (user_id, conversation_id, granted_by, created_at, expires_at) \
         VALUES ({cora}, {case}, {agent}, '2026-01-01 00:00:00', '2099-01-01 00:00:00')"
    ));
    // Two questions for the owner: one waiting (overdue), one answered.
    let owner = app.user_id("owner@acme.test");
    let now = app.clock.now();
    let at = |hours: i64| (now + chrono::Duration::hours(hours)).format("%Y-%m-%d %H:%M:%S");
    for (body, state, due) in [
        ("@?Olivia Owner may we refund twice?", "open", at(-1)),
        (
            "@?Olivia Owner is the printer under warranty?",
            "answered",
            at(5),
        ),
    ] {
        app.sql(&format!(
            "INSERT INTO messages (conversation_id, kind, author_user_id, body, body_html, created_at, source) \
             VALUES ({case}, 'note', {agent}, '{body}', '', '{}', 'web')",
            at(-3)
        ));
        let question = app.newest_message(case);
        app.sql(&format!(
            "INSERT INTO requests (conversation_id, question_message_id, asked_by, asked_of, state, due_at, created_at, closed_at, answer_message_id) \
             VALUES ({case}, {question}, {agent}, {owner}, '{state}', '{due}', '{}', {}, {})",
            at(-3),
            if state == "open" { "NULL".to_string() } else { format!("'{}'", at(-2)) },
            if state == "open" { "NULL".to_string() } else { question.to_string() },
        ));
    }
    let browser = Browser::open(&app, "density");
    browser.sign_in("owner@acme.test");
    browser.resize(1366, 800);
    let number = |js: &str| browser.script(js).as_f64().unwrap_or(f64::MAX);
    for lang in ["en", "de", "es"] {
        app.sql(&format!("UPDATE users SET language = '{lang}'"));
        browser.goto("/settings/users");
        assert_eq!(browser.script("return document.documentElement.lang"), lang);
        assert!(
            number("return document.querySelector('.topbar').getBoundingClientRect().height")
                <= 64.0,
            "{lang}: the header keeps to one row at 1366 px"
        );
        assert!(
            number(
                "const w = document.querySelector('.table--users').closest('.table-wrap'); \
                 return w.scrollWidth - w.clientWidth"
            ) <= 0.0,
            "{lang}: every column of the users table shows, Status included"
        );
        browser.check_page(&format!("users-{lang}-1366"));

        browser.goto(&format!("/settings/users/{agent}"));
        assert_eq!(
            browser.script("return document.getElementById('permissions').open"),
            serde_json::json!(false),
            "the permissions wait behind their summary"
        );
        let height = number("return document.documentElement.scrollHeight");
        assert!(
            height < 1700.0,
            "{lang}: the user's page is {height} px tall"
        );
        browser.click("#permissions > summary");
        // One table: the columns of every area line up.
        let lefts = browser.script(
            "return [...new Set([...document.querySelectorAll('.table--permissions tbody tr:not(.group-row) td:nth-child(2)')].map(td => Math.round(td.getBoundingClientRect().left)))]",
        );
        assert_eq!(lefts.as_array().map(Vec::len), Some(1), "{lefts}");
        browser.check_page(&format!("user-{lang}-1366"));

        // Why they see a conversation, and who does, in every language.
        browser.goto(&format!("/settings/users/{cora}?conversation={case}"));
        browser.check_both_widths(&format!("user-sight-{lang}"));
        browser.goto(&format!("/conversations/{case}/audience"));
        browser.check_both_widths(&format!("audience-{lang}"));
        // Questions asked of them, and on the conversation.
        browser.goto("/conversations?view=asked");
        browser.wait_for_text(".requests--cards", "may we refund twice?");
        browser.check_both_widths(&format!("asked-{lang}"));
        browser.goto(&format!("/conversations/{case}"));
        browser.wait_for_text("#requests", "is the printer under warranty?");
        browser.check_both_widths(&format!("questions-{lang}"));
        browser.resize(1366, 800);
    }
});

db_test!(a_manager_changes_several_users_after_a_preview, |app| {
    let app = app.with_org();
    app.staff();
    let billing = app.team("Billing");
    let ann = app.user("ann@acme.test", "Ann Agent").create();
    let admin = app.user_id("admin@acme.test");
    let browser = Browser::open(&app, "bulk");
    browser.sign_in("manager@acme.test");
    browser.goto("/settings/users");
    browser.click(".bulk-users > summary");
    browser.click(&format!("input[name=ids][value='{ann}']"));
    browser.click(&format!("input[name=ids][value='{admin}']"));
    browser.click("#bulk-action option[value=add_teams]");
    browser.click(&format!("#bulk-teams option[value='{billing}']"));
    browser.check_both_widths("users-bulk-form");
    browser.click("#users-bulk button[type=submit]");
    browser.wait_for_text(
        "[data-bulk-summary]",
        "1 will change, 0 already so, 1 refused.",
    );
    assert!(browser.text("main").contains("Ask an admin."));
    assert_eq!(
        app.count(&format!("team_memberships WHERE team_id = {billing}")),
        0,
        "the preview changed nothing"
    );
    browser.check_both_widths("users-bulk-preview");
    browser.click("form[action='/settings/users/bulk'] button[type=submit]");
    browser.wait_for_text("[data-bulk-summary]", "1 changed, 0 already so, 1 refused.");
    browser.check_page("users-bulk-done");
    assert_eq!(
        app.count(&format!(
            "team_memberships WHERE team_id = {billing} AND user_id = {ann}"
        )),
        1
    );
});
