//! Trash and Spam: moving there and back from the page, in bulk and through
//! the API, what leaves the views, counts and search, the worker's purge
//! after 30 days, and collaborators refused everywhere.

use super::*;

/// The sum of the kept view counts equals the conversations there are.
fn counts_agree(app: &TestApp) {
    #[derive(diesel::QueryableByName)]
    struct Sum {
        #[diesel(sql_type = diesel::sql_types::BigInt)]
        n: i64,
    }
    use diesel::RunQueryDsl;
    let kept: Sum = diesel::sql_query(
        "SELECT CAST(COALESCE(SUM(n), 0) AS BIGINT) AS n FROM conversation_counts",
    )
    .get_result(&mut app.conn())
    .expect("sum");
    assert_eq!(kept.n, app.count("conversations"));
}

db_test!(trash_leaves_the_views_is_restored_and_purged, |app| {
    let app = app.with_org();
    let (support, _, carl) = workspace(&app);
    let alan = app.user_id("agent@acme.test");
    let first = app.conversation("Printer on fire", carl, Some(support), Some(alan), "open");
    let second = app.conversation("Printer jammed", carl, Some(support), None, "open");
    app.sql(&format!(
        "INSERT INTO messages (conversation_id, kind, author_customer_id, body, created_at) \
         VALUES ({first}, 'customer', {carl}, 'Smoke everywhere', '2026-11-01 10:00:00')"
    ));
    let mut agent = app.sign_in("agent@acme.test");
    agent
        .post_multipart(
            &format!("/conversations/{first}/notes"),
            &[("body", "Photo of the smoke attached.")],
            &[("files", "smoke.txt", b"smoke")],
        )
        .expect_done();
    assert_eq!(app.count("attachments"), 1);
    let page = agent.get(&format!("/conversations/{first}"));
    assert!(page.body.contains(">Move to Trash<"), "{}", page.body);
    assert!(page.body.contains(">Mark as spam<"));

    agent
        .post_form(&format!("/conversations/{first}/move"), &[("to", "trash")])
        .expect_location(&format!("/conversations/{first}?notice=trashed"));
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {first} AND folder = 'trash' AND moved_at IS NOT NULL"
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "audit_log WHERE action = 'conversation.trashed' AND target_id = {first}"
        )),
        1
    );
    counts_agree(&app);

    // Gone from every view, count and search; there in Trash.
    let teams = agent.get("/conversations?view=teams");
    assert!(!teams.body.contains("Printer on fire"));
    assert!(teams.body.contains("Printer jammed"));
    assert!(
        teams.body.contains("data-view=\"teams\">1<"),
        "{}",
        teams.body
    );
    assert!(teams.body.contains("data-view=\"mine\">0<"));
    assert!(teams.body.contains("data-view=\"trash\">1<"));
    let trash = agent.get("/conversations?view=trash");
    assert!(trash.body.contains("Printer on fire"));
    assert!(!trash.body.contains("Printer jammed"));
    assert!(trash.body.contains("deleted for good 30 days after"));
    let found = agent.get("/search?q=printer");
    assert!(found.body.contains(&format!("/conversations/{second}\"")));
    assert!(!found.body.contains(&format!("/conversations/{first}\"")));
    let customer = agent.get(&format!("/customers/{carl}"));
    assert!(!customer.body.contains("Printer on fire"));
    let page = agent.get(&format!("/conversations/{first}?notice=trashed"));
    assert!(page.body.contains("Moved to Trash."));
    assert!(page.body.contains("In Trash since"), "{}", page.body);
    assert!(page.body.contains("value=\"inbox\">Restore<"));

    // Restored from the Trash view's bulk bar: back where it was.
    agent
        .post_form(
            "/conversations/bulk",
            &[
                ("ids", &first.to_string()),
                ("action", "inbox"),
                ("view", "trash"),
            ],
        )
        .expect_location("/conversations?view=trash");
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {first} AND folder IS NULL AND moved_at IS NULL \
             AND status = 'open' AND assignee_id = {alan}"
        )),
        1
    );
    assert!(
        agent
            .get("/conversations?view=mine")
            .body
            .contains("Printer on fire")
    );
    counts_agree(&app);

    // Both to Trash in bulk; the worker deletes them 30 days later, not before.
    agent
        .post_form(
            "/conversations/bulk",
            &[
                ("ids", &first.to_string()),
                ("ids", &second.to_string()),
                ("action", "trash"),
                ("view", "teams"),
            ],
        )
        .expect_location("/conversations?view=teams");
    assert_eq!(app.count("conversations WHERE folder = 'trash'"), 2);
    app.clock.advance(Duration::days(29));
    assert_eq!(app.run_jobs(None).purged, 0);
    app.clock.advance(Duration::days(2));
    assert_eq!(app.run_jobs(None).purged, 2);
    assert_eq!(app.count("conversations"), 0);
    assert_eq!(app.count("messages"), 0);
    assert_eq!(
        app.count("attachments"),
        0,
        "files go with their conversation"
    );
    assert_eq!(
        app.count("audit_log WHERE action = 'conversation.purged' AND actor_id IS NULL"),
        1
    );
    counts_agree(&app);
    assert_eq!(agent.get(&format!("/conversations/{first}")).status, 404);
});

db_test!(collaborators_can_neither_trash_nor_mark_spam, |app| {
    let app = app.with_org();
    let (support, _, carl) = workspace(&app);
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let mut cora = app.sign_in("collab@acme.test");
    let page = cora.get(&format!("/conversations/{id}"));
    assert_eq!(page.status, 200);
    assert!(!page.body.contains("Move to Trash") && !page.body.contains("Mark as spam"));
    let inbox = cora.get("/conversations?view=trash");
    assert!(!inbox.body.contains("data-view=\"trash\""));
    assert!(!inbox.body.contains("data-view=\"spam\""));
    for to in ["trash", "spam"] {
        assert_eq!(
            cora.post_form(&format!("/conversations/{id}/move"), &[("to", to)])
                .status,
            403
        );
        assert_eq!(
            cora.post_form(
                "/conversations/bulk",
                &[("ids", &id.to_string()), ("action", to)]
            )
            .status,
            403
        );
    }
    let token = app.api_token("collab@acme.test");
    let mut api = app.client();
    let refused = api.api(
        "PATCH",
        &format!("/api/v1/conversations/{id}"),
        Some(&token),
        Some(&serde_json::json!({ "folder": "spam" })),
        &[],
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    assert_eq!(
        api.api(
            "GET",
            "/api/v1/conversations?view=trash",
            Some(&token),
            None,
            &[]
        )
        .status,
        403
    );
    assert_eq!(app.count("conversations WHERE folder IS NOT NULL"), 0);
    assert_eq!(app.count("customers WHERE blocked_at IS NOT NULL"), 0);
    assert_eq!(app.count("audit_log WHERE action LIKE 'conversation.%'"), 0);
});

db_test!(the_api_moves_conversations_and_lists_the_folders, |app| {
    let app = app.with_org();
    let (support, _, carl) = workspace(&app);
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let other = app.conversation("Printer jammed", carl, Some(support), None, "open");
    let token = app.api_token("agent@acme.test");
    let mut api = app.client();
    let mut call = |method: &str, path: &str, body: Option<serde_json::Value>| {
        api.api(method, path, Some(&token), body.as_ref(), &[])
    };
    let moved = call(
        "PATCH",
        &format!("/api/v1/conversations/{id}"),
        Some(serde_json::json!({ "folder": "trash" })),
    );
    assert_eq!(moved.status, 200, "{}", moved.body);
    assert_eq!(moved.json()["folder"], "trash");
    assert!(moved.json()["moved_at"].is_string());
    let ids = |page: &Response| -> Vec<i64> {
        page.json()["data"]
            .as_array()
            .expect("data")
            .iter()
            .map(|c| c["id"].as_i64().expect("id"))
            .collect()
    };
    assert_eq!(
        ids(&call("GET", "/api/v1/conversations", None)),
        vec![other]
    );
    assert_eq!(
        ids(&call("GET", "/api/v1/conversations?view=trash", None)),
        vec![id]
    );
    let bad = call(
        "PATCH",
        &format!("/api/v1/conversations/{id}"),
        Some(serde_json::json!({ "folder": "bin" })),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    // Out of Trash and a property change in one request.
    let back = call(
        "PATCH",
        &format!("/api/v1/conversations/{id}"),
        Some(serde_json::json!({ "folder": null, "priority": "high" })),
    );
    assert_eq!(back.status, 200, "{}", back.body);
    assert_eq!(back.json()["folder"], serde_json::Value::Null);
    assert_eq!(back.json()["priority"], "high");
    assert_eq!(
        app.count("audit_log WHERE action IN ('conversation.trashed', 'conversation.restored')"),
        2
    );
    assert_eq!(
        app.count("webhook_deliveries"),
        0,
        "no webhook subscribed, none queued"
    );
});
