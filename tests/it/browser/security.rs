//! In Chromium: tokens, SCIM and webhooks pages, and the security refusals as users see them.

use super::*;

db_test!(
    api_tokens_scim_and_webhooks_in_the_browser,
    configure = crate::support::allow_private_webhooks,
    |app| {
        let app = app.with_org();
        app.staff();
        let browser = Browser::open(&app, "api");
        browser.sign_in("admin@acme.test");
        // A personal token: created on the profile's token page, shown once.
        browser.goto("/profile");
        browser.click("a[href='/profile/tokens']");
        browser.wait_for_path("/profile/tokens");
        browser.fill("#name", "Zapier");
        browser.click("form[action='/profile/tokens'] button[type=submit]");
        browser.wait_for_text("[data-testid=new-token]", "confer_pat_");
        let token = browser.text("[data-testid=new-token]");
        browser.check_page("profile-tokens");
        let mut api = app.client();
        let me = api.api("GET", "/api/v1/me", Some(&token), None, &[]);
        assert_eq!(me.json()["email"], "admin@acme.test");
        // The API reference renders the document.
        browser.goto("/api/docs");
        assert!(
            browser
                .text("main")
                .contains("/api/v1/conversations/{id}/replies")
        );
        browser.check_page("api-docs");
        // Settings > API & SCIM: the token is listed; a SCIM token is made.
        browser.goto("/settings");
        browser.click("a[href='/settings/api']");
        browser.wait_for_path("/settings/api");
        assert!(browser.text("main").contains("Zapier"));
        browser.click("form[action='/settings/api/scim-token'] button[type=submit]");
        browser.wait_for_text("[data-testid=scim-token]", "confer_scim_");
        let scim = browser.text("[data-testid=scim-token]");
        browser.check_page("settings-api");
        let users = api.api(
            "GET",
            "/scim/v2/Users?filter=userName%20eq%20%22agent%40acme.test%22",
            Some(&scim),
            None,
            &[],
        );
        assert_eq!(users.status, 200, "{}", users.body);
        assert_eq!(users.json()["totalResults"], 1);
        // Settings > Webhooks: one with an event, its page and log.
        browser.click("a[href='/settings/webhooks']");
        browser.wait_for_path("/settings/webhooks");
        browser.check_page("settings-webhooks");
        browser.fill("#url", "http://127.0.0.1:9/hooks");
        browser.click("#event-note\\.added");
        browser.click("form[action='/settings/webhooks'] button[type=submit]");
        browser.wait_for(|path| path.starts_with("/settings/webhooks/"));
        assert!(
            browser
                .text("[data-testid=webhook-secret]")
                .starts_with("whsec_")
        );
        browser.click("form[action$='/test'] button[type=submit]");
        browser.wait_for_text("main", "webhook.test");
        browser.check_page("settings-webhook");
        drop(browser);
        // A collaborator has tokens and the reference too, in their own layout;
        // their token may add notes and may not reply.
        let collab = Browser::open(&app, "api-collab");
        collab.sign_in("collab@acme.test");
        collab.goto("/profile/tokens");
        collab.fill("#name", "Notes bot");
        collab.click("form[action='/profile/tokens'] button[type=submit]");
        collab.wait_for_text("[data-testid=new-token]", "confer_pat_");
        let token = collab.text("[data-testid=new-token]");
        assert!(collab.body_class().contains("layout-collaborator"));
        collab.check_page("collab-tokens");
        collab.goto("/api/docs");
        collab.check_page("collab-api-docs");
        let customer = app.customer("Carla Customer", "carla@example.com");
        let team = app.user_id("collab@acme.test");
        let support: i64 =
            confer::models::team::Team::ids_of_user(&mut app.conn(), team).unwrap()[0];
        let conversation =
            app.conversation("Printer on fire", customer, Some(support), None, "open");
        let note = json_note(&mut api, &token, conversation, "notes");
        assert_eq!(note, 201);
        assert_eq!(json_note(&mut api, &token, conversation, "replies"), 403);
    }
);

/// Posts `{"body": …}` to a conversation's notes or replies with a token.
fn json_note(
    client: &mut crate::support::Client,
    token: &str,
    conversation: i64,
    kind: &str,
) -> u16 {
    client
        .api(
            "POST",
            &format!("/api/v1/conversations/{conversation}/{kind}"),
            Some(token),
            Some(&serde_json::json!({ "body": "From the API" })),
            &[],
        )
        .status
}

// Issue 14 as its users meet it: a lead editing their own role sees only
// their own permissions; a refused webhook target, a search too long and an
// oversized form each get a clear page, in the reader's language.
db_test!(security_refusals_in_the_browser, |app| {
    let app = app.with_org();
    app.staff();
    app.sql(
        "INSERT INTO roles (key, name, builtin, permissions, created_at) \
         VALUES ('custom-lead', 'Lead', FALSE, 'users.view users.manage_roles conversations.view_all', '2026-01-01 00:00:00')",
    );
    let lead_role: i64 = {
        use confer::db::schema::roles;
        use diesel::prelude::*;
        roles::table
            .filter(roles::key.eq("custom-lead"))
            .select(roles::id)
            .first(&mut app.conn())
            .expect("role")
    };
    let lee = app.user("lee@acme.test", "Lee Lead").create();
    app.sql(&format!(
        "UPDATE users SET role_id = {lead_role} WHERE id = {lee}"
    ));
    app.user("lucia@acme.test", "Lucía Gómez")
        .language("es")
        .create();

    let browser = Browser::open(&app, "security");
    browser.sign_in("lee@acme.test");
    browser.goto(&format!("/settings/roles/{lead_role}"));
    let form = browser.text("main");
    assert!(
        form.contains("View the list of users") && form.contains("Manage roles"),
        "{form}"
    );
    assert!(
        browser
            .script("return document.querySelector(\"input[value='settings.org']\") === null;")
            .as_bool()
            .unwrap_or(false),
        "a permission the lead lacks is not offered"
    );
    browser.check_both_widths("role-form-lead");

    let long = "a".repeat(600);
    browser.goto(&format!("/search?q={long}"));
    browser.wait_for_text("main", "Search for at most 500 characters.");
    browser.check_both_widths("search-too-long");
    drop(browser);

    let browser = Browser::open(&app, "security-es");
    browser.sign_in("lucia@acme.test");
    browser.goto(&format!("/search?q={long}"));
    browser.wait_for_text("main", "Busca como máximo 500 caracteres.");
    browser.check_both_widths("search-too-long-es");
    drop(browser);

    let browser = Browser::open(&app, "security-admin");
    browser.sign_in("admin@acme.test");
    browser.goto("/settings/webhooks");
    browser.fill("#url", "http://169.254.169.254/latest/meta-data/");
    browser.click("#event-note\\.added");
    browser.click("form[action='/settings/webhooks'] button[type=submit]");
    browser.wait_for_text("main", "a private, loopback or link-local network");
    assert!(
        browser
            .script("return document.querySelector('#url').value;")
            .as_str()
            .is_some_and(|v| v.contains("169.254.169.254")),
        "what was typed is kept"
    );
    browser.check_both_widths("webhook-private");
    assert_eq!(app.count("webhooks"), 0);
});
