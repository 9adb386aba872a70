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

mod access;
mod conventions;
mod webhooks;

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
    /// A note snippet shared with the Support team.
    saved_reply: i64,
    /// A question the owner asked the collaborator.
    request: i64,
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
    app.sql(&format!(
        "INSERT INTO saved_replies (title, body, kind, team_id, created_at, updated_at) VALUES ('Escalated', 'Escalated for {{customer.first_name}}.', 'note', {team}, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    ));
    let saved_reply = id_of(app, "SELECT MAX(id) AS n FROM saved_replies");
    // Asked after the customer's message, now.
    let now = app.clock.now().format("%Y-%m-%d %H:%M:%S");
    app.sql(&format!(
        "INSERT INTO messages (conversation_id, kind, author_user_id, body, body_html, created_at, source) \
         VALUES ({conversation}, 'note', {owner}, '@?Cora which plan?', '', '{now}', 'web')"
    ));
    let question = id_of(app, "SELECT MAX(id) AS n FROM messages");
    app.sql(&format!(
        "INSERT INTO requests (conversation_id, question_message_id, asked_by, asked_of, state, created_at) \
         VALUES ({conversation}, {question}, {owner}, {collab}, 'open', '{now}')"
    ));
    let request = id_of(app, "SELECT MAX(id) AS n FROM requests");
    World {
        request,
        saved_reply,
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
    } else if path.starts_with("/saved-replies") {
        w.saved_reply
    } else if path.starts_with("/requests") {
        w.request
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
        // Each user decided alone: the spare agent is changed or already so.
        (
            "post",
            "/users/batch",
            Some(
                json!({ "user_ids": [w.spare_user], "change": { "action": "conversation_access", "conversation_access": "all" }, "dry_run": true }),
            ),
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
        ("get", "/saved-replies", None, all_ok),
        (
            "post",
            "/saved-replies",
            Some(
                json!({ "title": "Thanks", "body": "Thanks, {customer.first_name}!", "kind": "note" }),
            ),
            [201; 5],
        ),
        // A team's reply: every member reads it; those who manage teams change it.
        ("get", "/saved-replies/{id}", None, all_ok),
        (
            "patch",
            "/saved-replies/{id}",
            Some(json!({ "title": "Escalated to engineering" })),
            staff_only,
        ),
        // The first deletes it; it is gone for the rest.
        (
            "delete",
            "/saved-replies/{id}",
            None,
            [204, 404, 404, 404, 404],
        ),
        ("get", "/notifications", None, all_ok),
        // The notification is the collaborator's: nobody else's to read.
        (
            "post",
            "/notifications/{id}/read",
            None,
            [404, 404, 404, 404, 200],
        ),
        // Anyone who writes notes asks someone who sees the conversation.
        (
            "post",
            "/conversations/{id}/requests",
            Some(json!({ "asked_of": w.spare_user, "question": "Which plan?" })),
            [201; 5],
        ),
        ("get", "/requests", None, all_ok),
        ("get", "/requests/{id}", None, all_ok),
        // Asked of the collaborator, whose note above (the first after the
        // question) answered it: only she may answer, and it is closed.
        (
            "post",
            "/requests/{id}/answer",
            Some(json!({ "body": "Pro." })),
            [403, 403, 403, 403, 409],
        ),
        (
            "post",
            "/requests/{id}/decline",
            Some(json!({ "reason": "Not mine." })),
            [403, 403, 403, 403, 409],
        ),
        // The asker, and those who update conversations, may withdraw it
        // (no longer open); the collaborator may not.
        (
            "post",
            "/requests/{id}/withdraw",
            None,
            [409, 409, 409, 409, 403],
        ),
    ]
}
