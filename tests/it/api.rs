//! The JSON API: route × role × token matrix, collaborator refusals with
//! the database unchanged, invisible conversations, idempotency, cursors,
//! the OpenAPI document against the router, tokens and their lifecycle,
//! error conventions, and webhooks delivered to a real loopback server.

use std::collections::HashSet;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};

use confer::policy::BuiltinRole;
use serde_json::{Value, json};

use crate::db_test;
use crate::support::TestApp;

const ROLES: [&str; 5] = [
    "owner@acme.test",
    "admin@acme.test",
    "manager@acme.test",
    "agent@acme.test",
    "collab@acme.test",
];

/// The cast, a customer with a conversation in the Support team, a task,
/// an article and a notification for the collaborator.
struct World {
    team: i64,
    conversation: i64,
    customer: i64,
    organization: i64,
    task: i64,
    article: i64,
    notification: i64,
    spare_user: i64,
    attachment: i64,
}

/// A customer message with a file on `conversation`; the file's id.
fn file_on(app: &TestApp, conversation: i64, customer: i64) -> i64 {
    let now = app.clock.now();
    let mut conn = app.conn();
    let message = confer::models::conversation::insert_message(
        &mut conn,
        &confer::models::conversation::NewMessage {
            conversation_id: conversation,
            kind: confer::models::conversation::MessageKind::Customer,
            author_user_id: None,
            author_customer_id: Some(customer),
            body: "Photo attached",
            email_message_id: None,
            source: "email",
            quoted: None,
        },
        now,
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
            data: b"the printer smokes",
        },
        now,
    )
    .expect("file")
}

fn world(app: &TestApp) -> World {
    let team = app.staff();
    let customer = app.customer("Carla Customer", "carla@example.com");
    let conversation = app.conversation("Printer on fire", customer, Some(team), None, "open");
    let organization = confer::models::customer::create_organization(
        &mut app.conn(),
        "Example Inc",
        &["example.com".to_string()],
        app.clock.now(),
    )
    .expect("organization");
    let owner = app.user_id("owner@acme.test");
    let collab = app.user_id("collab@acme.test");
    let task = confer::models::task::create(
        &mut app.conn(),
        &confer::models::task::TaskFields {
            title: "Call back",
            description: "",
            due_on: None,
            assignee_id: collab,
        },
        owner,
        Some(conversation),
        None,
        app.clock.now(),
    )
    .expect("task");
    app.sql("INSERT INTO kb_categories (name, slug, position, created_at) VALUES ('Guides', 'guides', 1, '2026-01-01 00:00:00')");
    app.sql("INSERT INTO kb_sections (category_id, name, slug, position, created_at) SELECT id, 'Start', 'start', 1, '2026-01-01 00:00:00' FROM kb_categories");
    let section = id_of(app, "SELECT MAX(id) AS n FROM kb_sections");
    let article = confer::models::kb::create(
        &mut app.conn(),
        &confer::models::kb::NewArticle {
            section_id: section,
            translation_of: None,
            language: "en",
            title: "Reset a printer",
            body: "Turn it off.",
            author_id: owner,
            author_name: "Olivia Owner",
        },
        app.clock.now(),
    )
    .expect("article");
    app.sql(&format!(
        "INSERT INTO notifications (user_id, kind, conversation_id, actor_id, created_at) VALUES ({collab}, 'mention', {conversation}, {owner}, '2026-01-01 00:00:00')"
    ));
    let notification = id_of(app, "SELECT MAX(id) AS n FROM notifications");
    let spare_user = app.user("spare@acme.test", "Sam Spare").create();
    let attachment = file_on(app, conversation, customer);
    World {
        team,
        conversation,
        customer,
        organization,
        task,
        article,
        notification,
        spare_user,
        attachment,
    }
}

/// One number from SQL (`SELECT … AS n`).
fn id_of(app: &TestApp, sql: &str) -> i64 {
    use diesel::prelude::*;
    #[derive(QueryableByName)]
    struct N {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    diesel::sql_query(sql)
        .get_result::<N>(&mut app.conn())
        .expect("number")
        .n
}

fn fill(path: &str, w: &World) -> String {
    let id = if path.starts_with("/tasks") {
        w.task
    } else if path.starts_with("/kb") {
        w.article
    } else if path.starts_with("/organizations") {
        w.organization
    } else if path.starts_with("/customers") {
        w.customer
    } else if path.starts_with("/users") {
        w.spare_user
    } else if path.starts_with("/teams") {
        w.team
    } else if path.starts_with("/notifications") {
        w.notification
    } else if path.starts_with("/attachments") {
        w.attachment
    } else {
        w.conversation
    };
    format!("/api/v1{}", path.replace("{id}", &id.to_string()))
}

/// Every API route: the body a request sends, and the status each role
/// gets ([owner, admin, manager, agent, collaborator]).
fn matrix(w: &World, collab: i64) -> Vec<(&'static str, &'static str, Option<Value>, [u16; 5])> {
    let all_ok = [200; 5];
    let staff_only = [200, 200, 200, 403, 403];
    let not_collab = |ok: u16| [ok, ok, ok, ok, 403];
    vec![
        ("get", "/openapi.json", None, all_ok),
        ("get", "/me", None, all_ok),
        ("get", "/conversations", None, all_ok),
        (
            "post",
            "/conversations",
            Some(
                json!({ "customer_email": "new@example.com", "subject": "Hello", "message": "Hi there", "team_id": w.team }),
            ),
            not_collab(201),
        ),
        ("get", "/conversations/{id}", None, all_ok),
        (
            "patch",
            "/conversations/{id}",
            Some(json!({ "priority": "high" })),
            not_collab(200),
        ),
        ("get", "/conversations/{id}/messages", None, all_ok),
        ("get", "/attachments/{id}", None, all_ok),
        (
            "post",
            "/conversations/{id}/replies",
            Some(json!({ "body": "We are on it." })),
            not_collab(201),
        ),
        (
            "post",
            "/conversations/{id}/notes",
            Some(json!({ "body": "Internal." })),
            [201; 5],
        ),
        ("get", "/customers", None, all_ok),
        (
            "post",
            "/customers",
            Some(json!({ "name": "Nora New" })),
            not_collab(201),
        ),
        ("get", "/customers/{id}", None, all_ok),
        (
            "patch",
            "/customers/{id}",
            Some(json!({ "name": "Carla Customer", "email": "carla@example.com" })),
            not_collab(200),
        ),
        ("get", "/customers/{id}/notes", None, all_ok),
        (
            "post",
            "/customers/{id}/notes",
            Some(json!({ "body": "VIP" })),
            [201; 5],
        ),
        ("get", "/organizations", None, all_ok),
        ("get", "/organizations/{id}", None, all_ok),
        ("get", "/organizations/{id}/notes", None, all_ok),
        (
            "post",
            "/organizations/{id}/notes",
            Some(json!({ "body": "Renewal in May" })),
            [201; 5],
        ),
        ("get", "/users", None, staff_only),
        (
            "post",
            "/users",
            Some(
                json!({ "name": "Colin Contractor", "email": "UNIQUE", "user_type": "collaborator" }),
            ),
            [201, 201, 201, 403, 403],
        ),
        ("get", "/users/{id}", None, staff_only),
        (
            "patch",
            "/users/{id}",
            Some(json!({ "name": "Sam Spare" })),
            staff_only,
        ),
        ("post", "/users/{id}/deactivate", None, staff_only),
        ("post", "/users/{id}/reactivate", None, staff_only),
        ("get", "/teams", None, staff_only),
        ("get", "/teams/{id}", None, staff_only),
        ("get", "/tasks", None, all_ok),
        (
            "post",
            "/tasks",
            Some(json!({ "title": "Follow up", "assignee_id": collab })),
            not_collab(201),
        ),
        ("get", "/tasks/{id}", None, all_ok),
        (
            "patch",
            "/tasks/{id}",
            Some(json!({ "title": "Call back soon" })),
            not_collab(200),
        ),
        (
            "post",
            "/tasks/{id}/comments",
            Some(json!({ "body": "Done?" })),
            [201; 5],
        ),
        ("get", "/kb/articles", None, all_ok),
        ("get", "/kb/articles/{id}", None, all_ok),
        ("get", "/search?q=printer", None, all_ok),
        ("get", "/notifications", None, all_ok),
        // The notification is the collaborator's: nobody else's to read.
        (
            "post",
            "/notifications/{id}/read",
            None,
            [404, 404, 404, 404, 200],
        ),
    ]
}

db_test!(route_role_token_matrix, |app| {
    let app = app.with_org();
    let w = world(&app);
    let collab = app.user_id("collab@acme.test");
    let tokens: Vec<String> = ROLES.iter().map(|e| app.api_token(e)).collect();
    let mut client = app.client();
    let mut wrong = Vec::new();
    let rows = matrix(&w, collab);
    // The matrix covers exactly the router's routes.
    let listed: HashSet<(String, String)> = rows
        .iter()
        .map(|(m, p, _, _)| (m.to_string(), p.split('?').next().unwrap_or(p).to_string()))
        .collect();
    let routed: HashSet<(String, String)> = confer::api::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(listed, routed, "the matrix and the router differ");
    for (n, (method, path, body, expected)) in rows.iter().enumerate() {
        let url = fill(path, &w);
        for (i, (token, status)) in tokens.iter().zip(expected).enumerate() {
            let body = body.as_ref().map(|b| {
                let mut b = b.clone();
                if b.get("email") == Some(&json!("UNIQUE")) {
                    b["email"] = json!(format!("colin{n}-{i}@partner.test"));
                }
                b
            });
            let got = client.api(
                &method.to_uppercase(),
                &url,
                Some(token),
                body.as_ref(),
                &[],
            );
            if got.status != *status {
                wrong.push(format!(
                    "{} {method} {url}: expected {status}, got {} {}",
                    ROLES[i], got.status, got.body
                ));
            }
            if got.status == 403 && got.json()["error"]["code"] != "forbidden" {
                wrong.push(format!("{method} {url}: 403 without the JSON error"));
            }
        }
        // No token, and a wrong one: 401 with the JSON error (the document is open).
        let open = *path == "/openapi.json";
        for token in [None, Some("confer_pat_not-a-token")] {
            let got = client.api(&method.to_uppercase(), &url, token, body.as_ref(), &[]);
            let expected = if open { 200 } else { 401 };
            if got.status != expected {
                wrong.push(format!(
                    "{token:?} {method} {url}: expected {expected}, got {}",
                    got.status
                ));
            }
            if !open && got.json()["error"]["code"].as_str().is_none() {
                wrong.push(format!("{method} {url}: 401 without the JSON error"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
});

db_test!(collaborator_refusals_leave_the_database_unchanged, |app| {
    let app = app.with_org();
    let w = world(&app);
    let token = app.api_token("collab@acme.test");
    let snapshot = |app: &TestApp| {
        [
            "messages",
            "conversations",
            "outbox",
            "customers",
            "tasks",
            "users",
            "conversations WHERE priority = 'normal' AND status = 'open'",
        ]
        .map(|q| app.count(q))
    };
    let before = snapshot(&app);
    let mut c = app.client();
    let conv = format!("/api/v1/conversations/{}", w.conversation);
    let attempts = [
        (
            "POST",
            format!("{conv}/replies"),
            json!({ "body": "Hello customer" }),
        ),
        (
            "PATCH",
            conv.clone(),
            json!({ "status": "done", "priority": "urgent" }),
        ),
        (
            "POST",
            "/api/v1/conversations".into(),
            json!({ "customer_email": "x@example.com", "subject": "S", "message": "M", "team_id": w.team }),
        ),
        (
            "PATCH",
            format!("/api/v1/customers/{}", w.customer),
            json!({ "name": "Renamed" }),
        ),
        ("POST", "/api/v1/customers".into(), json!({ "name": "New" })),
        (
            "POST",
            "/api/v1/tasks".into(),
            json!({ "title": "T", "assignee_id": app.user_id("agent@acme.test") }),
        ),
        (
            "POST",
            "/api/v1/users".into(),
            json!({ "name": "N", "email": "n@acme.test", "user_type": "collaborator" }),
        ),
    ];
    for (method, path, body) in attempts {
        let got = c.api(method, &path, Some(&token), Some(&body), &[]);
        assert_eq!(got.status, 403, "{method} {path}: {}", got.body);
        let error = &got.json()["error"];
        assert_eq!(error["code"], "forbidden");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(error.get("details").is_some());
    }
    // Reports and exports are not API routes at all; with a token they are
    // not reachable either (cookie sign-in only).
    let got = c.api("GET", "/reports", Some(&token), None, &[]);
    got.expect_redirect("/login");
    assert_eq!(
        snapshot(&app),
        before,
        "a refused request changed the database"
    );
});

db_test!(
    invisible_conversations_answer_404_like_missing_ones,
    |app| {
        let app = app.with_org();
        let w = world(&app);
        let billing = app.team("Billing");
        let hidden = app.conversation("Invoice dispute", w.customer, Some(billing), None, "open");
        app.user("teamonly@acme.test", "Tess Teamonly")
            .teams_only()
            .in_team(w.team)
            .create();
        let token = app.api_token("teamonly@acme.test");
        let mut c = app.client();
        let missing = c.api(
            "GET",
            "/api/v1/conversations/999999",
            Some(&token),
            None,
            &[],
        );
        assert_eq!(missing.status, 404);
        for (method, suffix, body) in [
            ("GET", "", None),
            ("GET", "/messages", None),
            ("PATCH", "", Some(json!({ "priority": "high" }))),
            ("POST", "/notes", Some(json!({ "body": "psst" }))),
            ("POST", "/replies", Some(json!({ "body": "hello" }))),
        ] {
            let got = c.api(
                method,
                &format!("/api/v1/conversations/{hidden}{suffix}"),
                Some(&token),
                body.as_ref(),
                &[],
            );
            assert_eq!(got.status, 404, "{method} {suffix}");
            assert_eq!(
                got.body, missing.body,
                "an invisible conversation must look missing"
            );
        }
        // Its files too; a visible conversation's file downloads.
        let hidden_file = file_on(&app, hidden, w.customer);
        let got = c.api(
            "GET",
            &format!("/api/v1/attachments/{hidden_file}"),
            Some(&token),
            None,
            &[],
        );
        assert_eq!(
            (got.status, got.body.as_str()),
            (404, missing.body.as_str())
        );
        let messages = c
            .api(
                "GET",
                &format!("/api/v1/conversations/{}/messages", w.conversation),
                Some(&token),
                None,
                &[],
            )
            .json();
        let url = messages["data"][0]["attachments"][0]["download_url"]
            .as_str()
            .unwrap()
            .to_string();
        let file = c.api("GET", &url, Some(&token), None, &[]);
        assert_eq!(file.status, 200);
        assert_eq!(file.body, "the printer smokes");
        assert!(
            file.header("content-disposition")
                .unwrap()
                .starts_with("attachment;")
        );
        let list = c
            .api("GET", "/api/v1/conversations", Some(&token), None, &[])
            .json();
        let ids: Vec<i64> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert!(ids.contains(&w.conversation) && !ids.contains(&hidden));
        assert_eq!(
            app.count(&format!(
                "messages WHERE conversation_id = {hidden} AND kind <> 'customer'"
            )),
            0
        );
    }
);

db_test!(an_idempotent_retry_sends_the_reply_once, |app| {
    let app = app.with_org();
    let w = world(&app);
    let token = app.api_token("agent@acme.test");
    let mut c = app.client();
    let path = format!("/api/v1/conversations/{}/replies", w.conversation);
    let body = json!({ "body": "Your printer is fixed." });
    let key = [("Idempotency-Key", "retry-42")];
    let first = c.api("POST", &path, Some(&token), Some(&body), &key);
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(
        first
            .header("location")
            .is_some_and(|l| l.starts_with("/api/v1/conversations/"))
    );
    let again = c.api("POST", &path, Some(&token), Some(&body), &key);
    assert_eq!(again.status, 201);
    assert_eq!(again.json(), first.json());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.count("messages WHERE kind = 'reply'"), 1);
    assert_eq!(app.count("outbox WHERE kind = 'reply'"), 1);
    // The same key with another body is refused; no key sends again.
    let other = c.api(
        "POST",
        &path,
        Some(&token),
        Some(&json!({ "body": "Different" })),
        &key,
    );
    assert_eq!(other.status, 409);
    assert_eq!(other.json()["error"]["code"], "idempotency_key_reused");
    c.api("POST", &path, Some(&token), Some(&body), &[])
        .expect_done();
    assert_eq!(app.count("messages WHERE kind = 'reply'"), 2);
    // Another token's key space is its own.
    let other_token = app.api_token("manager@acme.test");
    let theirs = c.api("POST", &path, Some(&other_token), Some(&body), &key);
    assert_eq!(theirs.status, 201);
    assert!(theirs.header("idempotent-replayed").is_none());
    assert_eq!(app.count("messages WHERE kind = 'reply'"), 3);
});

db_test!(cursors_are_stable_while_conversations_arrive, |app| {
    let app = app.with_org();
    let w = world(&app);
    let mut original = vec![w.conversation];
    for n in 0..24 {
        app.clock.advance(chrono::Duration::seconds(1));
        original.push(app.conversation(
            &format!("Batch {n}"),
            w.customer,
            Some(w.team),
            None,
            "open",
        ));
    }
    let token = app.api_token("agent@acme.test");
    let mut c = app.client();
    let mut seen: Vec<i64> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cur) => format!("/api/v1/conversations?limit=7&cursor={cur}"),
            None => "/api/v1/conversations?limit=7".to_string(),
        };
        let page = c.api("GET", &path, Some(&token), None, &[]).json();
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap()),
        );
        pages += 1;
        // New conversations arrive between pages.
        app.clock.advance(chrono::Duration::seconds(1));
        app.conversation(
            &format!("Arrived {pages}"),
            w.customer,
            Some(w.team),
            None,
            "open",
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "a conversation came twice: {seen:?}"
    );
    for id in &original {
        assert!(unique.contains(id), "conversation {id} was skipped");
    }
    assert_eq!(pages, 4, "25 conversations in pages of 7");
    let bad = c.api(
        "GET",
        "/api/v1/conversations?cursor=not-ours",
        Some(&token),
        None,
        &[],
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["code"], "invalid_cursor");
});

db_test!(the_openapi_document_matches_the_router, |app| {
    let app = app.with_org();
    let mut c = app.client();
    let doc = c.get("/api/v1/openapi.json");
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            documented.insert((method.clone(), path.clone()));
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path} has no success response"
            );
            if path != "/api/v1/openapi.json" {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{method} {path}"
                );
            }
        }
    }
    let routed: HashSet<(String, String)> = confer::api::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), format!("/api/v1{p}")))
        .collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
    // The route table is what the router serves: every entry is routed (a
    // 401, never the router's "no such route").
    for (method, path) in &routed {
        let got = c.api(
            &method.to_uppercase(),
            &path.replace("{id}", "1"),
            None,
            None,
            &[],
        );
        assert_ne!(
            got.json()["error"]["code"],
            "route_not_found",
            "{method} {path}"
        );
    }
    let nowhere = c.api("GET", "/api/v1/nowhere", None, None, &[]);
    assert_eq!(
        (nowhere.status, nowhere.json()["error"]["code"].clone()),
        (404, json!("route_not_found"))
    );
    let wrong_method = c.api("DELETE", "/api/v1/conversations", None, None, &[]);
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("GET, POST"));
    // The reference page renders every operation of the document.
    app.staff();
    let page = app.sign_in("agent@acme.test").get("/api/docs");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body.matches("data-testid=\"operation\"").count(),
        routed.len()
    );
    assert!(page.body.contains("/api/v1/conversations/{id}/replies"));
});

db_test!(tokens_follow_their_user, |app| {
    let app = app.with_org();
    let w = world(&app);
    // Created on the profile page, shown once, stored hashed.
    let mut browser = app.sign_in("agent@acme.test");
    let page = browser.post_form("/profile/tokens", &[("name", "CI script")]);
    assert_eq!(page.status, 200);
    let marker = "data-testid=\"new-token\">";
    let start = page.body.find(marker).expect("token shown") + marker.len();
    let token = page.body[start..].split('<').next().unwrap().to_string();
    assert!(token.starts_with("confer_pat_"));
    assert_eq!(
        app.count(&format!(
            "api_tokens WHERE token_hash = '{}'",
            confer::handlers::inbound_token_hash(&token)
        )),
        1
    );
    assert_eq!(
        app.count(&format!("api_tokens WHERE token_hash = '{token}'")),
        0
    );
    assert!(
        !browser.get("/profile/tokens").body.contains(&token),
        "shown more than once"
    );
    let empty = browser.post_form("/profile/tokens", &[("name", " ")]);
    assert_eq!(empty.status, 422);

    let mut c = app.client();
    let me = c.api("GET", "/api/v1/me", Some(&token), None, &[]);
    assert_eq!(me.json()["email"], "agent@acme.test");
    assert!(
        me.json()["created_at"].as_str().unwrap().ends_with('Z'),
        "RFC 3339 in UTC"
    );
    assert_eq!(app.count("api_tokens WHERE last_used_at IS NOT NULL"), 1);

    // A type change applies at once: now a collaborator, replies are refused.
    app.sql("UPDATE users SET user_type = 'collaborator', role_id = NULL WHERE email = 'agent@acme.test'");
    let reply = json!({ "body": "hi" });
    let path = format!("/api/v1/conversations/{}/replies", w.conversation);
    assert_eq!(
        c.api("POST", &path, Some(&token), Some(&reply), &[]).status,
        403
    );
    app.sql(&format!(
        "UPDATE users SET user_type = 'full_time', role_id = {} WHERE email = 'agent@acme.test'",
        app.role_id(BuiltinRole::Agent)
    ));
    assert_eq!(
        c.api("POST", &path, Some(&token), Some(&reply), &[]).status,
        201
    );

    // A seasonal window's end stops it; deactivation revokes it.
    app.sql("UPDATE users SET user_type = 'seasonal', access_starts = '2020-01-01', access_ends = '2020-01-31' WHERE email = 'agent@acme.test'");
    let closed = c.api("GET", "/api/v1/me", Some(&token), None, &[]);
    assert_eq!(
        (closed.status, closed.json()["error"]["code"].clone()),
        (401, json!("access_window_closed"))
    );
    app.sql("UPDATE users SET user_type = 'full_time', access_starts = NULL, access_ends = NULL WHERE email = 'agent@acme.test'");
    let admin = app.api_token("admin@acme.test");
    let agent_id = app.user_id("agent@acme.test");
    let off = c.api(
        "POST",
        &format!("/api/v1/users/{agent_id}/deactivate"),
        Some(&admin),
        None,
        &[],
    );
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.json()["active"], false);
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&token), None, &[]).status,
        401
    );
    assert_eq!(app.count("api_tokens WHERE revoked_at IS NOT NULL"), 1);

    // Revoking one's own token from the profile.
    let second = app.api_token("manager@acme.test");
    let id = id_of(&app, "SELECT MAX(id) AS n FROM api_tokens");
    let mut manager = app.sign_in("manager@acme.test");
    assert_eq!(
        manager
            .post_form(&format!("/profile/tokens/{id}/revoke"), &[])
            .status,
        303
    );
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&second), None, &[]).status,
        401
    );
    // Someone else's token is not theirs to revoke.
    let owners = app.api_token("owner@acme.test");
    let owners_id = id_of(&app, "SELECT MAX(id) AS n FROM api_tokens");
    assert_eq!(
        manager
            .post_form(&format!("/profile/tokens/{owners_id}/revoke"), &[])
            .status,
        404
    );
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&owners), None, &[]).status,
        200
    );
    // An admin sees every live token and can revoke it.
    let mut admin_browser = app.sign_in("admin@acme.test");
    assert!(
        admin_browser
            .get("/settings/api")
            .body
            .contains("Olivia Owner")
    );
    admin_browser
        .post_form(&format!("/settings/api/tokens/{owners_id}/revoke"), &[])
        .expect_done();
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&owners), None, &[]).status,
        401
    );
});

db_test!(errors_limits_and_rate_limits_answer_json, |app| {
    let app = app.with_org();
    let w = world(&app);
    let token = app.api_token("agent@acme.test");
    let mut c = app.client();
    let notes = format!("/api/v1/conversations/{}/notes", w.conversation);
    let code = |r: &crate::support::Response| {
        r.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // Not JSON, the wrong type, too large, the wrong shape, invalid values.
    let raw = |content_type: &str, body: Vec<u8>| {
        let request = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("{}{notes}", app.base_url))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", content_type)
            .body(body)
            .unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent.run(request).unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    let (status, body) = raw("application/json", b"{not json".to_vec());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid_json"));
    let (status, _) = raw("text/plain", b"{}".to_vec());
    assert_eq!(status, 415);
    let (status, body) = raw(
        "application/json",
        format!("{{\"body\":\"{}\"}}", "x".repeat(2 * 1024 * 1024)).into_bytes(),
    );
    assert_eq!(status, 413, "{body}");
    let shape = c.api(
        "POST",
        &notes,
        Some(&token),
        Some(&json!({ "text": "hi" })),
        &[],
    );
    assert_eq!(
        (shape.status, code(&shape)),
        (422, "validation_failed".into())
    );
    let blank = c.api(
        "POST",
        &notes,
        Some(&token),
        Some(&json!({ "body": "  " })),
        &[],
    );
    assert_eq!(blank.status, 422);
    assert!(blank.json()["error"]["details"]["fields"]["body"].is_array());
    let query = c.api(
        "GET",
        "/api/v1/conversations?limit=1000",
        Some(&token),
        None,
        &[],
    );
    assert_eq!((query.status, code(&query)), (400, "invalid_limit".into()));
    let bad_type = c.api(
        "GET",
        "/api/v1/conversations?assignee_id=abc",
        Some(&token),
        None,
        &[],
    );
    assert_eq!(bad_type.status, 400);
    assert_eq!(
        c.api("GET", "/api/v1/conversations/abc", Some(&token), None, &[])
            .status,
        404
    );
    // No CORS headers, ever.
    let me = c.api(
        "GET",
        "/api/v1/me",
        Some(&token),
        None,
        &[("Origin", "https://evil.example")],
    );
    assert!(me.header("access-control-allow-origin").is_none());
    // A created resource has its Location.
    let created = c.api(
        "POST",
        "/api/v1/customers",
        Some(&token),
        Some(&json!({ "name": "Lou", "email": "lou@example.com" })),
        &[],
    );
    assert_eq!(created.status, 201);
    let location = created.header("location").unwrap().to_string();
    assert_eq!(
        c.api("GET", &location, Some(&token), None, &[]).json()["name"],
        "Lou"
    );
    let dup = c.api(
        "POST",
        "/api/v1/customers",
        Some(&token),
        Some(&json!({ "name": "Lou 2", "email": "LOU@example.com" })),
        &[],
    );
    // Another customer's address is a conflict (409), like a user's.
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.json()["error"]["details"]["fields"]["email"][0],
        "belongs to another customer"
    );
    // The rate limit is per token, with Retry-After.
    // A fresh minute, then three requests are allowed and the fourth is not.
    app.clock.advance(chrono::Duration::seconds(61));
    app.state.api_limiter.set_limit(3);
    let other = app.api_token("manager@acme.test");
    let statuses: Vec<u16> = (0..3)
        .map(|_| c.api("GET", "/api/v1/me", Some(&token), None, &[]).status)
        .collect();
    assert_eq!(statuses, vec![200, 200, 200]);
    let limited = c.api("GET", "/api/v1/me", Some(&token), None, &[]);
    assert_eq!(
        (limited.status, code(&limited)),
        (429, "rate_limited".into())
    );
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&other), None, &[]).status,
        200,
        "another token has its own budget"
    );
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&token), None, &[]).status,
        200
    );
});

/// A loopback HTTP server that records requests and answers with the next
/// status from `answers` (200 when they run out).
struct Receiver {
    port: u16,
    seen: Arc<Mutex<Vec<Received>>>,
}

/// One request the receiver took: its headers (lower-case names) and body.
type Received = (Vec<(String, String)>, String);

fn receiver(answers: Vec<u16>) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let trimmed = line.trim_end();
                if trimmed.is_empty() {
                    break;
                }
                if let Some((name, value)) = trimmed.split_once(": ") {
                    headers.push((name.to_lowercase(), value.to_string()));
                }
            }
            let length: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            log.lock()
                .unwrap()
                .push((headers, String::from_utf8(body).unwrap()));
            let status = answers.lock().unwrap().next().unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    Receiver { port, seen }
}

db_test!(
    webhooks_are_signed_queued_retried_and_logged,
    configure = crate::support::allow_private_webhooks,
    |app| {
        let app = app.with_org();
        let w = world(&app);
        let server = receiver(vec![500]);
        let mut admin = app.sign_in("admin@acme.test");
        let url = format!("http://127.0.0.1:{}/hooks", server.port);
        let bad = admin.post_form(
            "/settings/webhooks",
            &[("url", "ftp://x"), ("active", "on")],
        );
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("ftp://x"), "what was typed is kept");
        let created = admin.post_form(
            "/settings/webhooks",
            &[
                ("url", &url),
                ("events", "note.added"),
                ("events", "assignment.changed"),
                ("events", "user.deactivated"),
                ("active", "on"),
            ],
        );
        created.expect_redirect("/settings/webhooks/*");
        let hook_page = created.location.unwrap();
        let page = admin.get(&hook_page);
        let marker = "data-testid=\"webhook-secret\">";
        let start = page.body.find(marker).unwrap() + marker.len();
        let secret = page.body[start..].split('<').next().unwrap().to_string();

        // A note through the API queues note.added; a reply (not subscribed) nothing.
        let token = app.api_token("agent@acme.test");
        let mut c = app.client();
        c.api(
            "POST",
            &format!("/api/v1/conversations/{}/notes", w.conversation),
            Some(&token),
            Some(&json!({ "body": "Escalating" })),
            &[],
        )
        .expect_done();
        c.api(
            "POST",
            &format!("/api/v1/conversations/{}/replies", w.conversation),
            Some(&token),
            Some(&json!({ "body": "Hello" })),
            &[],
        )
        .expect_done();
        assert_eq!(app.count("webhook_deliveries"), 1);

        // The first attempt gets a 500: kept, retried later.
        let round = app.run_jobs(None);
        assert_eq!((round.webhooks_delivered, round.webhooks_failed), (0, 1));
        assert_eq!(
        app.count(
            "webhook_deliveries WHERE state = 'pending' AND attempts = 1 AND response_status = 500"
        ),
        1
    );
        assert_eq!(app.run_jobs(None).webhooks_failed, 0, "not due again yet");
        app.clock.advance(chrono::Duration::minutes(3));
        let round = app.run_jobs(None);
        assert_eq!(round.webhooks_delivered, 1);
        assert_eq!(
            app.count("webhook_deliveries WHERE state = 'delivered' AND attempts = 2"),
            1
        );

        let seen = server.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        let (headers, body) = &seen[1];
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(header("confer-event"), "note.added");
        let payload: Value = serde_json::from_str(body).unwrap();
        assert_eq!(payload["event"], "note.added");
        assert_eq!(payload["data"]["conversation_id"], w.conversation);
        assert_eq!(payload["data"]["body"], "Escalating");
        // The signature is HMAC-SHA256 of "<t>.<body>" with the secret.
        let signature = header("confer-signature");
        let (t, v1) = signature.split_once(",v1=").unwrap();
        let t: i64 = t.trim_start_matches("t=").parse().unwrap();
        assert_eq!(
            signature,
            confer::models::webhook::signature(&secret, t, body)
        );
        assert_eq!(v1.len(), 64);
        {
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(format!("{t}.{body}").as_bytes());
            assert_eq!(hex::encode(mac.finalize().into_bytes()), v1);
        }

        // Assignment and deactivation events; the log shows each delivery.
        let agent = app.user_id("agent@acme.test");
        c.api(
            "PATCH",
            &format!("/api/v1/conversations/{}", w.conversation),
            Some(&token),
            Some(&json!({ "assignee_id": agent })),
            &[],
        )
        .expect_done();
        admin
            .post_form(&format!("/settings/users/{agent}/deactivate"), &[])
            .expect_done();
        app.run_jobs(None);
        let events: Vec<String> = server
            .seen
            .lock()
            .unwrap()
            .iter()
            .map(|(h, _)| {
                h.iter()
                    .find(|(n, _)| n == "confer-event")
                    .unwrap()
                    .1
                    .clone()
            })
            .collect();
        assert!(
            events.contains(&"assignment.changed".to_string()),
            "{events:?}"
        );
        assert!(
            events.contains(&"user.deactivated".to_string()),
            "{events:?}"
        );
        let log = admin.get(&hook_page).body;
        assert!(
            log.contains("assignment.changed")
                && log.contains("user.deactivated")
                && log.contains("HTTP 200")
        );
        // A test event, an edit that turns it off, and deletion.
        let id = hook_page
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_string();
        admin
            .post_form(&format!("/settings/webhooks/{id}/test"), &[])
            .expect_done();
        app.run_jobs(None);
        assert!(
            server
                .seen
                .lock()
                .unwrap()
                .iter()
                .any(|(_, b)| b.contains("webhook.test"))
        );
        admin
            .post_form(
                &format!("/settings/webhooks/{id}"),
                &[("url", &url), ("events", "note.added")],
            )
            .expect_done();
        // (The agent was deactivated above: the manager writes this note.)
        let manager = app.api_token("manager@acme.test");
        c.api(
            "POST",
            &format!("/api/v1/conversations/{}/notes", w.conversation),
            Some(&manager),
            Some(&json!({ "body": "Quiet" })),
            &[],
        )
        .expect_status(201);
        assert_eq!(
            app.count("webhook_deliveries WHERE payload LIKE '%Quiet%'"),
            0,
            "an inactive webhook gets nothing"
        );
        assert_eq!(
            admin
                .post_form(&format!("/settings/webhooks/{id}/delete"), &[])
                .status,
            303
        );
        assert_eq!(app.count("webhook_deliveries"), 0);
    }
);

db_test!(webhooks_never_reach_private_addresses_by_default, |app| {
    let app = app.with_org();
    world(&app);
    let server = receiver(vec![200]);
    let mut admin = app.sign_in("admin@acme.test");
    let hooks = app.count("webhooks");
    for url in [
        format!("http://127.0.0.1:{}/hooks", server.port),
        "http://localhost:9/hooks".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.1.2.3/hooks".to_string(),
        "http://192.168.0.10/hooks".to_string(),
        "http://[::1]:9/hooks".to_string(),
        "http://[::ffff:127.0.0.1]:9/hooks".to_string(),
    ] {
        let refused = admin.post_form(
            "/settings/webhooks",
            &[("url", &url), ("events", "note.added"), ("active", "on")],
        );
        assert_eq!(refused.status, 422, "{url}");
        assert!(
            refused
                .body
                .contains("a private, loopback or link-local network"),
            "{url}: {}",
            refused.body
        );
    }
    let unknown = admin.post_form(
        "/settings/webhooks",
        &[
            ("url", "https://no-such-host.invalid/h"),
            ("events", "note.added"),
            ("active", "on"),
        ],
    );
    assert_eq!(unknown.status, 422);
    assert!(unknown.body.contains("could not be found"));
    assert_eq!(app.count("webhooks"), hooks, "nothing was saved");

    // A target saved before (or a name that now resolves elsewhere) is
    // checked again when called: refused, and the receiver hears nothing.
    let now = app.clock.now();
    let url = format!("http://127.0.0.1:{}/hooks", server.port);
    let hook =
        confer::models::webhook::create(&mut app.conn(), &url, &["note.added"], "s", now).unwrap();
    confer::models::webhook::queue(&mut app.conn(), hook, "webhook.test", &json!({}), now).unwrap();
    let round = app.run_jobs(None);
    assert_eq!(round.webhooks_failed, 1);
    assert_eq!(
        app.count("webhook_deliveries WHERE last_error LIKE '%private address%'"),
        1
    );
    assert!(server.seen.lock().unwrap().is_empty());
});

db_test!(the_api_answers_as_its_document_says, |app| {
    let app = app.with_org();
    let w = world(&app);
    let token = app.api_token("owner@acme.test");
    let mut c = app.client();
    // A field naming something that does not exist: 409 with the field.
    let missing = c.api(
        "POST",
        "/api/v1/tasks",
        Some(&token),
        Some(&json!({ "title": "T", "assignee_id": 999999 })),
        &[],
    );
    assert_eq!(missing.status, 409, "{}", missing.body);
    assert_eq!(missing.json()["error"]["code"], "related_not_found");
    assert!(missing.json()["error"]["details"]["fields"]["assignee_id"].is_array());
    // Whole numbers written as decimals are integers.
    let agent = app.user_id("agent@acme.test");
    let decimal = c.api(
        "POST",
        "/api/v1/tasks",
        Some(&token),
        Some(&json!({ "title": "Decimal", "assignee_id": agent as f64 })),
        &[],
    );
    assert_eq!(decimal.status, 201, "{}", decimal.body);
    let fraction = c.api(
        "POST",
        "/api/v1/tasks",
        Some(&token),
        Some(&json!({ "title": "Fraction", "assignee_id": agent as f64 + 0.5 })),
        &[],
    );
    assert_eq!(fraction.status, 422, "{}", fraction.body);
    // Keys are visible ASCII; a deactivation body must be an object (or null).
    let tab = c.api(
        "POST",
        &format!("/api/v1/conversations/{}/notes", w.conversation),
        Some(&token),
        Some(&json!({ "body": "x" })),
        &[("Idempotency-Key", "a\tb")],
    );
    assert_eq!(tab.status, 400, "{}", tab.body);
    let scalar = c.api(
        "POST",
        &format!("/api/v1/users/{agent}/deactivate"),
        Some(&token),
        Some(&json!(true)),
        &[],
    );
    assert_eq!(scalar.status, 422, "{}", scalar.body);
    assert_eq!(
        app.count(&format!("users WHERE id = {agent} AND active = TRUE")),
        1
    );
    // The document declares what the handlers check.
    let doc = c.get("/api/v1/openapi.json").json();
    let params = &doc["paths"]["/api/v1/conversations"]["get"]["parameters"];
    let param = |name: &str| {
        params
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(param("limit")["schema"]["minimum"], 1);
    assert_eq!(param("limit")["schema"]["maximum"], 100);
    let statuses = param("status").to_string();
    for status in ["open", "pending", "snoozed", "done"] {
        assert!(statuses.contains(&format!("\"{status}\"")), "{statuses}");
    }
    let user = &doc["components"]["schemas"]["UserFields"]["properties"];
    assert_eq!(user["email"]["format"], "email");
    assert_eq!(user["name"]["maxLength"], 200);
    assert!(
        user["timezone"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("Europe/Berlin"))
    );
    let key = doc["paths"]["/api/v1/customers"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap()
        .clone();
    assert_eq!(key["schema"]["minLength"], 1);
    assert_eq!(key["schema"]["maxLength"], 255);
});
