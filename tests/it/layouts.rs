//! Each role gets its own layout, and every page route answers each role
//! with the status the policy decides.

use confer::policy::BuiltinRole;

use crate::db_test;
use crate::support::*;

/// Returns the Billing team, which the agent and the collaborator share.
/// A new note shared with the Billing team; its id.
fn billing_note(app: &TestApp) -> i64 {
    app.sql(
        "INSERT INTO saved_replies (title, body, kind, team_id, created_at, updated_at) \
         SELECT 'Billing note', 'Checked.', 'note', id, '2026-01-01 00:00:00', '2026-01-01 00:00:00' \
         FROM teams WHERE name = 'Billing'",
    );
    use diesel::prelude::*;
    confer::db::schema::saved_replies::table
        .select(diesel::dsl::max(confer::db::schema::saved_replies::id))
        .first::<Option<i64>>(&mut app.conn())
        .expect("note")
        .expect("a note")
}

fn people(app: &TestApp) -> i64 {
    let support = app.team("Support");
    let billing = app.team("Billing");
    app.user("admin@acme.test", "Ada Admin")
        .role(BuiltinRole::Admin)
        .create();
    app.user("manager@acme.test", "Mia Manager")
        .role(BuiltinRole::Manager)
        .in_team(support)
        .create();
    app.user("agent@acme.test", "Alan Agent")
        .in_team(support)
        .in_team(billing)
        .teams_only()
        .create();
    app.user("collab@acme.test", "Cora Collaborator")
        .collaborator()
        .in_team(billing)
        .teams_only()
        .create();
    billing
}

db_test!(each_role_sees_its_own_layout, |app| {
    let app = app.with_org();
    let billing = people(&app);

    let owner = app.sign_in("owner@acme.test").get("/").body;
    assert!(owner.contains("class=\"layout-workspace\""));
    assert!(owner.contains("Signed in as Owner"));
    assert!(
        owner.contains("href=\"/settings\""),
        "owners reach Settings"
    );

    let manager = app.sign_in("manager@acme.test").get("/").body;
    assert!(manager.contains("class=\"layout-workspace\""));
    assert!(
        manager.contains("href=\"/settings\""),
        "managers reach Settings > Users"
    );
    assert!(manager.contains("Signed in as Manager"));
    assert!(manager.contains("Support"), "their team is listed");

    let agent = app.sign_in("agent@acme.test").get("/").body;
    assert!(agent.contains("Signed in as Agent"));
    assert!(
        !agent.contains("href=\"/settings\""),
        "agents have no Settings entry"
    );
    assert!(agent.contains("You can see the conversations of your teams."));
    assert!(agent.contains("Billing") && agent.contains("Support"));

    let collaborator = app.sign_in("collab@acme.test").get("/").body;
    assert!(collaborator.contains("class=\"layout-collaborator\""));
    assert!(
        collaborator.contains("avatar avatar--collaborator"),
        "the avatar carries the line"
    );
    assert!(collaborator.contains("You are a collaborator"));
    assert!(collaborator.contains("Add private notes to conversations"));
    assert!(
        !collaborator.contains("Reply to customers"),
        "never offered a reply"
    );
    assert!(!collaborator.contains("href=\"/settings\""));
    assert!(!collaborator.contains("Signed in as"));
    assert!(
        !collaborator.contains("Assigned to you") && !collaborator.contains("view=unassigned"),
        "collaborators are never assigned"
    );
    assert!(collaborator.contains("Nobody has mentioned you yet."));

    // Their home starts with what they were asked about.
    let carl = app.customer("Carl Customer", "carl@customer.test");
    let asked = app.conversation("Refund for order 7", carl, Some(billing), None, "open");
    let mut alan = app.sign_in("agent@acme.test");
    alan.post_form(
        &format!("/conversations/{asked}/notes"),
        &[("body", "@Cora Collaborator is this refund allowed?")],
    )
    .expect_done();
    let home = app.sign_in("collab@acme.test").get("/").body;
    let feed = home.split("id=\"asked-title\"").nth(1).unwrap_or_default();
    assert!(feed.contains(&format!(
        "href=\"/conversations/{asked}\">Refund for order 7</a>"
    )));
    assert!(feed.contains(">New<") && feed.contains("by Alan Agent"));
});

/// (method, path, [owner, admin, manager, agent, collaborator]) with the
/// status each gets. 303 is a redirect to the page they may use.
const MATRIX: &[(&str, &str, [u16; 5])] = &[
    ("GET", "/", [200, 200, 200, 200, 200]),
    ("GET", "/profile", [200, 200, 200, 200, 200]),
    ("GET", "/profile/tokens", [200, 200, 200, 200, 200]),
    ("GET", "/profile/two-factor", [200, 200, 200, 200, 200]),
    ("GET", "/saved-replies", [200, 200, 200, 200, 200]),
    (
        "GET",
        "/conversations/{id}/saved-replies",
        [200, 200, 200, 200, 200],
    ),
    ("GET", "/saved-replies/{id}", [200, 200, 200, 200, 200]),
    ("GET", "/api/docs", [200, 200, 200, 200, 200]),
    ("GET", "/logout", [200, 200, 200, 200, 200]),
    ("GET", "/settings", [303, 303, 303, 403, 403]),
    ("GET", "/settings/organisation", [200, 200, 403, 403, 403]),
    ("GET", "/conversations", [200, 200, 200, 200, 200]),
    ("GET", "/conversations/new", [200, 200, 200, 200, 403]),
    ("GET", "/conversations/{id}", [200, 200, 200, 200, 200]),
    (
        "GET",
        "/conversations/{id}/mentionable",
        [200, 200, 200, 200, 200],
    ),
    (
        "GET",
        "/conversations/{id}/audience",
        [200, 200, 200, 403, 403],
    ),
    ("GET", "/attachments/{id}", [200, 200, 200, 200, 200]),
    ("GET", "/notifications", [200, 200, 200, 200, 200]),
    ("GET", "/reports", [200, 200, 200, 403, 403]),
    ("GET", "/reports/{id}.csv", [200, 200, 200, 403, 403]),
    ("GET", "/tasks", [200, 200, 200, 200, 200]),
    ("GET", "/tasks/new", [200, 200, 200, 200, 403]),
    ("GET", "/tasks/{id}", [200, 200, 200, 200, 200]),
    ("GET", "/kb", [200, 200, 200, 200, 200]),
    ("GET", "/kb/links", [200, 200, 200, 200, 200]),
    ("GET", "/kb/articles/new", [200, 200, 200, 200, 403]),
    ("GET", "/kb/articles/{id}", [200, 200, 200, 200, 200]),
    ("GET", "/kb/articles/{id}/edit", [200, 200, 200, 200, 200]),
    (
        "GET",
        "/kb/articles/{id}/revisions",
        [200, 200, 200, 200, 200],
    ),
    ("GET", "/kb/categories", [200, 200, 200, 403, 403]),
    ("GET", "/search", [200, 200, 200, 200, 200]),
    ("GET", "/search.csv", [200, 200, 200, 403, 403]),
    ("GET", "/customers", [200, 200, 200, 200, 200]),
    ("GET", "/customers/new", [200, 200, 200, 200, 403]),
    ("GET", "/customers/{id}", [200, 200, 200, 200, 200]),
    ("GET", "/customers/{id}/edit", [200, 200, 200, 200, 403]),
    ("GET", "/organizations", [200, 200, 200, 200, 200]),
    ("GET", "/organizations/new", [200, 200, 200, 200, 403]),
    ("GET", "/organizations/{id}", [200, 200, 200, 200, 200]),
    ("GET", "/organizations/{id}/edit", [200, 200, 200, 200, 403]),
];

/// State-changing routes outside Settings: whether each role gets through
/// (an empty form then answers 422 or a redirect) or is refused with 403.
const POSTS: &[(&str, [bool; 5])] = &[
    ("/profile/tokens", [true, true, true, true, true]),
    (
        "/profile/tokens/{id}/revoke",
        [true, true, true, true, true],
    ),
    ("/conversations/bulk", [true, true, true, true, false]),
    ("/conversations/new", [true, true, true, true, false]),
    ("/conversations/{id}/notes", [true, true, true, true, true]),
    ("/conversations/{id}/reply", [true, true, true, true, false]),
    (
        "/conversations/{id}/properties",
        [true, true, true, true, false],
    ),
    ("/conversations/{id}/move", [true, true, true, true, false]),
    (
        "/conversations/{id}/grants",
        [true, true, true, false, false],
    ),
    (
        "/conversations/{id}/invite",
        [true, true, true, false, false],
    ),
    (
        "/conversations/{id}/grants/{grant}/revoke",
        [true, true, true, false, false],
    ),
    // Who may answer, decline or withdraw is decided per request (the
    // person asked, the asker; tests in requests.rs): anyone signed in
    // reaches the check.
    ("/requests/{id}/answer", [true, true, true, true, true]),
    ("/requests/{id}/decline", [true, true, true, true, true]),
    ("/requests/{id}/withdraw", [true, true, true, true, true]),
    ("/customers/{id}/unblock", [true, true, true, true, false]),
    ("/customers/new", [true, true, true, true, false]),
    ("/customers/{id}/edit", [true, true, true, true, false]),
    ("/customers/{id}/notes", [true, true, true, true, true]),
    ("/organizations/new", [true, true, true, true, false]),
    ("/organizations/{id}/edit", [true, true, true, true, false]),
    ("/organizations/{id}/notes", [true, true, true, true, true]),
    ("/notifications/read-all", [true, true, true, true, true]),
    ("/search/saved", [true, true, true, true, true]),
    ("/search/saved/{id}/delete", [true, true, true, true, true]),
    ("/notifications/{id}/read", [true, true, true, true, true]),
    ("/tasks/new", [true, true, true, true, false]),
    ("/tasks/{id}", [true, true, true, true, false]),
    // The collaborator is the task's assignee: they may close it.
    ("/tasks/{id}/done", [true, true, true, true, true]),
    ("/tasks/{id}/reopen", [true, true, true, true, true]),
    ("/tasks/{id}/comments", [true, true, true, true, true]),
    ("/kb/articles/new", [true, true, true, true, false]),
    // The article is a draft: collaborators may save it.
    ("/kb/articles/{id}/edit", [true, true, true, true, true]),
    ("/kb/articles/{id}/move", [true, true, true, false, false]),
    (
        "/kb/articles/{id}/publish",
        [true, true, true, false, false],
    ),
    (
        "/kb/articles/{id}/unpublish",
        [true, true, true, false, false],
    ),
    ("/kb/categories", [true, true, true, false, false]),
    ("/kb/categories/{id}", [true, true, true, false, false]),
    ("/kb/categories/{id}/move", [true, true, true, false, false]),
    ("/kb/sections", [true, true, true, false, false]),
    ("/kb/sections/{id}", [true, true, true, false, false]),
    ("/kb/sections/{id}/move", [true, true, true, false, false]),
    ("/kb/sections/{id}/delete", [true, true, true, false, false]),
    (
        "/kb/categories/{id}/delete",
        [true, true, true, false, false],
    ),
    // Last: it deletes the article the rows above use.
    ("/kb/articles/{id}/delete", [true, true, true, true, false]),
    ("/profile", [true, true, true, true, true]),
    ("/profile/password", [true, true, true, true, true]),
    ("/profile/two-factor", [true, true, true, true, true]),
    (
        "/profile/two-factor/recovery-codes",
        [true, true, true, true, true],
    ),
    (
        "/profile/two-factor/disable",
        [true, true, true, true, true],
    ),
    ("/saved-replies", [true, true, true, true, true]),
    ("/markdown/preview", [true, true, true, true, true]),
    // Saying one is replying: those who may reply.
    (
        "/conversations/{id}/presence",
        [true, true, true, true, false],
    ),
    // A note shared with Billing: its members read it, those who manage
    // teams change it.
    ("/saved-replies/{id}", [true, true, true, false, false]),
];

/// Event streams (they stay open): only their status is read.
const STREAMS: &[(&str, [u16; 5])] = &[("/conversations/{id}/live", [200, 200, 200, 200, 200])];

/// Posts that remove what they are about: each role gets a fresh one
/// (a note shared with Billing), and the status it answers.
const REMOVALS: &[(&str, [u16; 5])] = &[("/saved-replies/{id}/delete", [303, 303, 303, 403, 403])];

db_test!(route_by_role_matrix, |app| {
    let app = app.with_org();
    let billing = people(&app);
    // Every signed-in GET page outside Settings (which has its own matrix)
    // and outside the public pages is listed here.
    let public = [
        "/healthz",
        "/static/{file}",
        "/setup",
        "/login",
        "/login/two-factor",
        "/login/sso",
        "/login/sso/callback",
        "/invitations/{token}",
        "/password/forgot",
        "/password/reset/{token}",
        "/contact",
    ];
    let public_posts = [
        "/setup",
        "/login",
        "/login/two-factor",
        "/logout",
        "/password/forgot",
        "/contact",
        // The public help center (tests in kb.rs).
        "/help",
        "/help/search",
        "/help/sitemap.xml",
        "/help/categories/{slug}",
        "/help/sections/{slug}",
        "/help/articles/{slug}",
        // A machine interface with its own bearer token (tests in email.rs).
        "/inbound/email",
    ];
    for (method, path) in registered_routes() {
        let normalized = normalize(&path);
        let open = public.contains(&path.as_str())
            || public_posts.contains(&path.as_str())
            || path.starts_with("/settings/")
            || path.starts_with("/invitations/")
            || path.starts_with("/password/reset/");
        if open {
            continue;
        }
        let listed = if method == "GET" {
            MATRIX.iter().any(|(_, p, _)| normalize(p) == normalized)
                || STREAMS.iter().any(|(p, _)| normalize(p) == normalized)
        } else {
            POSTS.iter().any(|(p, _)| normalize(p) == normalized)
                || REMOVALS.iter().any(|(p, _)| normalize(p) == normalized)
        };
        assert!(listed, "{method} {path} is missing from the matrix");
    }
    let customer = app.customer("Carl Customer", "carl@customer.test");
    let organization = {
        let now = app.clock.now();
        confer::models::customer::create_organization(
            &mut app.conn(),
            "Globex",
            &["globex.test".into()],
            now,
        )
        .expect("organization")
    };
    // In the team that the team-only agent and collaborator share.
    let conversation = app.conversation("Matrix", customer, Some(billing), None, "open");
    let attachment = {
        let mut conn = app.conn();
        let message = confer::models::conversation::insert_message(
            &mut conn,
            &confer::models::conversation::NewMessage {
                conversation_id: conversation,
                kind: confer::models::conversation::MessageKind::Customer,
                author_user_id: None,
                author_customer_id: Some(customer),
                body: "See attached",
                email_message_id: None,
                source: "email",
                quoted: None,
            },
            app.clock.now(),
        )
        .expect("message");
        confer::models::attachment::store(
            &mut conn,
            conversation,
            message,
            &confer::models::attachment::NewFile {
                filename: "notes.txt",
                declared_type: "text/plain",
                content_id: None,
                inline: false,
                data: b"hello",
            },
            app.clock.now(),
        )
        .expect("attachment")
    };
    let (kb_category, kb_section, kb_article) = {
        let mut conn = app.conn();
        let now = app.clock.now();
        let category =
            confer::models::kb::create_category(&mut conn, "Guides", "", now).expect("category");
        let section = confer::models::kb::create_section(&mut conn, category, "Basics", now)
            .expect("section");
        let owner = app.user_id("owner@acme.test");
        let article = confer::models::kb::create(
            &mut conn,
            &confer::models::kb::NewArticle {
                section_id: section,
                translation_of: None,
                language: "en",
                title: "A draft",
                body: "Text",
                author_id: owner,
                author_name: "Owner",
            },
            now,
        )
        .expect("article");
        (category, section, article)
    };
    let task = {
        let owner = app.user_id("owner@acme.test");
        confer::models::task::create(
            &mut app.conn(),
            &confer::models::task::TaskFields {
                title: "Matrix task",
                description: "",
                due_on: None,
                assignee_id: app.user_id("collab@acme.test"),
            },
            owner,
            Some(conversation),
            None,
            app.clock.now(),
        )
        .expect("task")
    };
    let fill = |path: &str| {
        if path.starts_with("/reports/") {
            return path.replace("{id}", "daily");
        }
        let id = if path.starts_with("/tasks") {
            task
        } else if path.starts_with("/kb/categories") {
            kb_category
        } else if path.starts_with("/kb/sections") {
            kb_section
        } else if path.starts_with("/kb/articles") {
            kb_article
        } else if path.starts_with("/attachments") {
            attachment
        } else if path.starts_with("/organizations") {
            organization
        } else if path.starts_with("/conversations") {
            conversation
        } else if path.starts_with("/saved-replies") {
            billing_note(&app)
        } else {
            customer
        };
        // A grant that does not exist: refused (403) or not found (404).
        path.replace("{id}", &id.to_string())
            .replace("{grant}", "999999")
    };
    let emails = [
        "owner@acme.test",
        "admin@acme.test",
        "manager@acme.test",
        "agent@acme.test",
        "collab@acme.test",
    ];
    let mut clients: Vec<Client> = emails.iter().map(|e| app.sign_in(e)).collect();
    let mut wrong = Vec::new();
    for (method, path, expected) in MATRIX {
        assert_eq!(*method, "GET");
        let path = fill(path);
        for ((client, email), status) in clients.iter_mut().zip(emails).zip(expected) {
            let got = client.get(&path).status;
            if got != *status {
                wrong.push(format!(
                    "{email} {method} {path}: expected {status}, got {got}"
                ));
            }
        }
    }
    for (path, allowed) in POSTS {
        let path = fill(path);
        for ((client, email), allowed) in clients.iter_mut().zip(emails).zip(allowed) {
            let got = client.post_form(&path, &[]).status;
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
    for (path, expected) in STREAMS {
        let path = fill(path);
        for ((client, email), status) in clients.iter_mut().zip(emails).zip(expected) {
            let got = client.status_only(&path);
            if got != *status {
                wrong.push(format!("{email} GET {path}: expected {status}, got {got}"));
            }
        }
    }
    for (path, expected) in REMOVALS {
        for ((client, email), status) in clients.iter_mut().zip(emails).zip(expected) {
            let path = fill(path);
            let got = client.post_form(&path, &[]).status;
            if got != *status {
                wrong.push(format!("{email} POST {path}: expected {status}, got {got}"));
            }
        }
    }
    // Anonymous visitors are sent to sign in everywhere but the public pages.
    let mut anonymous = app.client();
    for (_, path, _) in MATRIX {
        let response = anonymous.get(&fill(path));
        if response.status != 303
            || !response
                .location
                .as_deref()
                .unwrap_or("")
                .starts_with("/login")
        {
            wrong.push(format!(
                "anonymous GET {path}: {} {:?}",
                response.status, response.location
            ));
        }
    }
    // Posting to the organisation settings is refused for those who may not.
    for (client, email) in clients.iter_mut().zip(emails).skip(2) {
        let got = client
            .post_form(
                "/settings/organisation",
                &[
                    ("name", "Hijacked"),
                    ("default_language", "en"),
                    ("timezone", "UTC"),
                ],
            )
            .status;
        if got != 403 {
            wrong.push(format!(
                "{email} POST /settings/organisation: expected 403, got {got}"
            ));
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
    let org = confer::models::org::OrgSettings::find(&mut app.conn())
        .expect("q")
        .expect("org");
    assert_eq!(org.name, "Acme Support");
});

/// `/a/{id}/b` and `/a/{x}/b` are the same route.
fn normalize(path: &str) -> String {
    path.split('/')
        .map(|seg| if seg.starts_with('{') { "{}" } else { seg })
        .collect::<Vec<_>>()
        .join("/")
}

db_test!(
    a_refused_page_keeps_the_navigation_and_the_organisation,
    |app| {
        let app = app.with_org();
        people(&app);
        let refused = app.sign_in("agent@acme.test").get("/settings/organisation");
        assert_eq!(refused.status, 403);
        assert!(refused.body.contains("class=\"error-code\">403<"));
        assert!(
            refused.body.contains("Acme Support"),
            "the organisation's name"
        );
        assert!(refused.body.contains("Alan Agent"), "the reader's menu");
        assert!(
            refused.body.contains("href=\"/conversations\""),
            "the navigation"
        );
        // Signed out, the page stays the bare one.
        let anonymous = app.client().get("/no-such-page");
        assert_eq!(anonymous.status, 404);
        assert!(!anonymous.body.contains("class=\"usermenu\""));
        assert!(!anonymous.body.contains("class=\"mainnav\""));
    }
);
