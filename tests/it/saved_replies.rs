//! Saved replies: personal and team-shared, reply and note kinds, who may
//! write which, the placeholders filled in for a conversation, inserted
//! into the composer (without JavaScript) and sent; the same in the API.

use serde_json::json;

use crate::db_test;
use crate::support::*;

fn saved_id(app: &TestApp, title: &str) -> i64 {
    use diesel::prelude::*;
    confer::db::schema::saved_replies::table
        .filter(confer::db::schema::saved_replies::title.eq(title))
        .select(confer::db::schema::saved_replies::id)
        .first::<i64>(&mut app.conn())
        .expect("saved reply")
}

db_test!(saved_replies_personal_and_shared_with_a_team, |app| {
    let app = app.with_org();
    let support = app.staff();
    let billing = app.team("Billing");
    app.user("bill@acme.test", "Bill Billing")
        .in_team(billing)
        .create();
    let customer = app.customer("Carla Customer", "carla@example.com");
    let conversation = app.conversation("Printer", customer, Some(support), None, "open");

    // Every problem at once.
    let mut agent = app.sign_in("agent@acme.test");
    let page = agent.get("/saved-replies");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<label for=\"title\">Title</label>"));
    assert!(
        !page.body.contains("<label for=\"team\">"),
        "agents share nothing"
    );
    let bad = agent.post_form(
        "/saved-replies",
        &[("title", " "), ("body", ""), ("kind", "shout")],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.body.matches("This field is required.").count() >= 2);
    assert!(bad.body.contains("Choose Reply or Note."));
    agent
        .post_form(
            "/saved-replies",
            &[
                ("title", "Refund"),
                ("kind", "reply"),
                (
                    "body",
                    "Hi {customer.first_name}, your refund for #{conversation.id} is on its way. {agent.first_name}",
                ),
            ],
        )
        .expect_redirect("/saved-replies");
    // An agent shares nothing with a team.
    let refused = agent.post_form(
        "/saved-replies",
        &[
            ("title", "Team"),
            ("kind", "reply"),
            ("body", "x"),
            ("team", &support.to_string()),
        ],
    );
    assert_eq!(refused.status, 403);

    // A manager shares a note with Support.
    let mut manager = app.sign_in("manager@acme.test");
    manager
        .post_form(
            "/saved-replies",
            &[
                ("title", "Escalate"),
                ("kind", "note"),
                ("body", "Escalating this for {customer.name}."),
                ("team", &support.to_string()),
            ],
        )
        .expect_redirect("/saved-replies");
    let refund = saved_id(&app, "Refund");
    let escalate = saved_id(&app, "Escalate");
    assert_eq!(
        app.count("audit_log WHERE action = 'saved_reply.created'"),
        2
    );

    // The agent sees their own and their team's, filled in for the
    // conversation; "insert" puts one into its composer without script.
    // The page itself carries no list (it is fetched when the picker
    // opens, or shown with ?saved=1 without script).
    let page = agent.get(&format!("/conversations/{conversation}"));
    assert!(!page.body.contains(">Refund</a>"));
    assert!(page.body.contains("?saved=1#compose-title"));
    let list = agent.get(&format!("/conversations/{conversation}/saved-replies"));
    assert_eq!(list.status, 200);
    assert!(list.body.contains(">Refund</a>"));
    assert!(list.body.contains(">Escalate</a>"));
    let page = agent.get(&format!("/conversations/{conversation}?saved=1"));
    assert!(page.body.contains(">Refund</a>") && page.body.contains(">Escalate</a>"));
    let page = agent.get(&format!("/conversations/{conversation}?insert={refund}"));
    let filled =
        format!("Hi Carla, your refund for #{conversation} is on its way. Alan</textarea>");
    assert!(page.body.contains(&filled), "{}", page.body);
    let page = agent.get(&format!("/conversations/{conversation}?insert={escalate}"));
    assert!(
        page.body
            .contains("Escalating this for Carla Customer.</textarea>")
    );
    agent
        .post_multipart(
            &format!("/conversations/{conversation}/reply"),
            &[
                ("body", "Hi Carla, your refund is on its way. Alan"),
                ("then", "done"),
            ],
            &[],
        )
        .expect_redirect(&format!("/conversations/{conversation}"));
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {conversation} AND status = 'done'"
        )),
        1
    );

    // Someone outside Support sees neither; the agent cannot change the
    // team's reply, nor see another's personal one.
    let mut bill = app.sign_in("bill@acme.test");
    let page = bill.get("/saved-replies");
    assert!(!page.body.contains("Refund") && !page.body.contains("Escalate"));
    bill.get(&format!("/saved-replies/{refund}"))
        .expect_status(404);
    let refused = agent.post_form(
        &format!("/saved-replies/{escalate}"),
        &[("title", "Mine now"), ("kind", "note"), ("body", "x")],
    );
    assert_eq!(refused.status, 403);
    let refused = agent.post_form(&format!("/saved-replies/{escalate}/delete"), &[]);
    assert_eq!(refused.status, 403);
    assert_eq!(app.count("saved_replies"), 2);

    // The collaborator: note snippets only, the team's note included.
    let mut collab = app.sign_in("collab@acme.test");
    let page = collab.get(&format!("/conversations/{conversation}/saved-replies"));
    assert!(page.body.contains(">Escalate</a>"));
    assert!(!page.body.contains(">Refund</a>"));
    let page = collab.get("/saved-replies");
    assert!(
        !page.body.contains("value=\"reply\""),
        "no reply kind offered"
    );
    let refused = collab.post_form(
        "/saved-replies",
        &[
            ("title", "Sneaky"),
            ("kind", "reply"),
            ("body", "Dear customer"),
        ],
    );
    assert_eq!(refused.status, 403);
    collab
        .post_form(
            "/saved-replies",
            &[
                ("title", "Looked at it"),
                ("kind", "note"),
                ("body", "Checked the logs."),
            ],
        )
        .expect_redirect("/saved-replies");

    // Editing and deleting one's own.
    agent
        .post_form(
            &format!("/saved-replies/{refund}"),
            &[
                ("title", "Refund sent"),
                ("kind", "reply"),
                ("body", "Done, {customer.first_name}."),
            ],
        )
        .expect_redirect("/saved-replies");
    assert!(agent.get("/saved-replies").body.contains("Refund sent"));
    agent
        .post_form(&format!("/saved-replies/{refund}/delete"), &[])
        .expect_redirect("/saved-replies");
    assert_eq!(app.count(&format!("saved_replies WHERE id = {refund}")), 0);
    assert_eq!(
        app.count("audit_log WHERE action IN ('saved_reply.updated', 'saved_reply.deleted')"),
        2
    );
});

db_test!(saved_replies_through_the_api, |app| {
    let app = app.with_org();
    let support = app.staff();
    let customer = app.customer("Carla Customer", "carla@example.com");
    let conversation = app.conversation("Printer", customer, Some(support), None, "open");
    let hidden_team = app.team("Hidden");
    let hidden = app.conversation("Elsewhere", customer, Some(hidden_team), None, "open");
    let manager = app.api_token("manager@acme.test");
    let collab = app.api_token("collab@acme.test");
    let mut c = app.client();
    let created = c.api(
        "POST",
        "/api/v1/saved-replies",
        Some(&manager),
        Some(&json!({ "title": "Hello", "body": "Hello {customer.first_name}, {agent.name} here.", "kind": "reply", "team_id": support })),
        &[],
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.json()["id"].as_i64().unwrap();
    assert_eq!(
        created.header("location"),
        Some(format!("/api/v1/saved-replies/{id}").as_str())
    );
    let agent = app.api_token("agent@acme.test");
    let listed = c.api(
        "GET",
        &format!("/api/v1/saved-replies?conversation_id={conversation}"),
        Some(&agent),
        None,
        &[],
    );
    assert_eq!(listed.status, 200);
    let data = listed.json()["data"].clone();
    assert_eq!(data[0]["title"], "Hello");
    assert_eq!(data[0]["filled"], "Hello Carla, Alan Agent here.");
    // A conversation the reader cannot see fills nothing: 404.
    app.user("tia@acme.test", "Tia Teams")
        .in_team(support)
        .teams_only()
        .create();
    let refused = c.api(
        "GET",
        &format!("/api/v1/saved-replies?conversation_id={hidden}"),
        Some(&app.api_token("tia@acme.test")),
        None,
        &[],
    );
    assert_eq!(refused.status, 404);
    // The collaborator sees no reply kind, and may not write one.
    let theirs = c.api("GET", "/api/v1/saved-replies", Some(&collab), None, &[]);
    assert_eq!(theirs.json()["data"], json!([]));
    let refused = c.api(
        "POST",
        "/api/v1/saved-replies",
        Some(&collab),
        Some(&json!({ "title": "Hi", "body": "Dear customer", "kind": "reply" })),
        &[],
    );
    assert_eq!(refused.status, 403, "{}", refused.body);
    let invalid = c.api(
        "POST",
        "/api/v1/saved-replies",
        Some(&agent),
        Some(&json!({ "title": "Hi", "body": "x", "kind": "shout" })),
        &[],
    );
    assert_eq!(invalid.status, 422, "{}", invalid.body);
    let patched = c.api(
        "PATCH",
        &format!("/api/v1/saved-replies/{id}"),
        Some(&manager),
        Some(&json!({ "body": "Hi {customer.name}." })),
        &[],
    );
    assert_eq!(patched.status, 200);
    assert_eq!(patched.json()["body"], "Hi {customer.name}.");
    let deleted = c.api(
        "DELETE",
        &format!("/api/v1/saved-replies/{id}"),
        Some(&manager),
        None,
        &[],
    );
    assert_eq!(deleted.status, 204);
    assert_eq!(app.count("saved_replies"), 0);
});
