//! Who sees and does what in a conversation: team-only readers, collaborators adding notes only, masking, bulk actions on visible conversations only.

use super::*;

db_test!(
    team_only_readers_never_see_other_teams_conversations,
    |app| {
        let app = app.with_org();
        let (support, billing, carl) = workspace(&app);
        let alan = app.user_id("agent@acme.test");
        let ours = app.conversation("Printer on fire", carl, Some(support), Some(alan), "open");
        let theirs = app.conversation("Invoice dispute", carl, Some(billing), None, "open");
        let theirs_done = app.conversation("Old refund", carl, Some(billing), None, "done");
        for email in ["agent@acme.test", "collab@acme.test"] {
            let mut client = app.sign_in(email);
            for view in ["mine", "unassigned", "teams", "all", "done"] {
                let page = client.get(&format!("/conversations?view={view}"));
                assert_eq!(page.status, 200);
                assert!(
                    !page.body.contains("Invoice dispute") && !page.body.contains("Old refund"),
                    "{email} {view}"
                );
            }
            assert!(
                client
                    .get("/conversations?view=teams")
                    .body
                    .contains("Printer on fire")
            );
            assert!(
                !client
                    .get("/conversations")
                    .body
                    .contains("data-view=\"all\""),
                "no All view for team-only readers"
            );
            for id in [theirs, theirs_done] {
                assert_eq!(
                    client.get(&format!("/conversations/{id}")).status,
                    404,
                    "{email} guessed {id}"
                );
                assert_eq!(
                    client
                        .post_form(&format!("/conversations/{id}/notes"), &[("body", "sneaky")])
                        .status,
                    404
                );
            }
            assert_eq!(client.get(&format!("/conversations/{ours}")).status, 200);
            let home = client.get("/");
            assert!(
                home.body.contains(">Open</a></dt><dd>1</dd>"),
                "{email}: counts are scoped too"
            );
        }
        let mut owner = app.sign_in("owner@acme.test");
        let all = owner.get("/conversations?view=all");
        assert!(all.body.contains("Invoice dispute") && all.body.contains("Printer on fire"));
        assert!(
            all.body
                .contains("<span class=\"count\" data-view=\"all\">2</span>")
        );
        assert!(
            owner
                .get("/conversations?view=done")
                .body
                .contains("Old refund")
        );
        assert_eq!(app.count("messages WHERE body = 'sneaky'"), 0);
    }
);

db_test!(collaborators_only_add_notes, |app| {
    let app = app.with_org();
    let (support, _, carl) = workspace(&app);
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let mut cora = app.sign_in("collab@acme.test");
    let page = cora.get(&format!("/conversations/{id}"));
    assert!(page.body.contains("layout-collaborator"));
    assert!(page.body.contains(">Note</label>"));
    for absent in [
        "/reply\"",
        "/properties\"",
        "name=\"status\"",
        "name=\"assignee\"",
        "name=\"tags\"",
        ">Reply<",
    ] {
        assert!(
            !page.body.contains(absent),
            "the collaborator page must not contain {absent}"
        );
    }
    let refused = [
        cora.post_form(
            &format!("/conversations/{id}/reply"),
            &[("body", "Hello customer")],
        )
        .status,
        cora.post_form(
            &format!("/conversations/{id}/properties"),
            &[
                ("status", "done"),
                ("priority", "urgent"),
                ("assignee", ""),
                ("team", ""),
                ("tags", "hacked"),
            ],
        )
        .status,
    ];
    assert_eq!(refused, [403, 403]);
    assert_eq!(app.count("messages WHERE kind = 'reply'"), 0);
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {id} AND status = 'open' AND priority = 'normal'"
        )),
        1
    );
    assert_eq!(
        app.count("outbox"),
        0,
        "a collaborator never reaches the customer"
    );
    let noted = cora.post_form(
        &format!("/conversations/{id}/notes"),
        &[(
            "body",
            "The **toner** is from batch 42 <script>x()</script>",
        )],
    );
    assert_eq!(
        noted.location,
        Some(format!(
            "/conversations/{id}?notice=noted#message-{}",
            app.newest_message(id)
        ))
    );
    let mut alan = app.sign_in("agent@acme.test");
    let seen = alan.get(&format!("/conversations/{id}"));
    assert!(seen.body.contains("<strong>toner</strong>") && !seen.body.contains("<script>x()"));
    assert!(
        seen.body.contains("message--note"),
        "notes are styled as private"
    );
    assert_eq!(app.count("outbox"), 0, "notes never leave the building");
});

db_test!(masking_applies_on_the_conversation_page, |app| {
    let app = app.with_org();
    let (support, _, carl) = workspace(&app);
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    app.sql("UPDATE org_settings SET mask_contacts_for_collaborators = TRUE");
    let cora = app
        .sign_in("collab@acme.test")
        .get(&format!("/conversations/{id}"))
        .body;
    assert!(cora.contains("c•••@customer.test") && !cora.contains("carl@customer.test"));
    let alan = app
        .sign_in("agent@acme.test")
        .get(&format!("/conversations/{id}"))
        .body;
    assert!(alan.contains("carl@customer.test"));
});

db_test!(bulk_actions_touch_only_visible_conversations, |app| {
    let app = app.with_org();
    let (support, billing, carl) = workspace(&app);
    let alan = app.user_id("agent@acme.test");
    let a = app.conversation("First", carl, Some(support), None, "open");
    let b = app.conversation("Second", carl, Some(support), None, "pending");
    let hidden = app.conversation("Elsewhere", carl, Some(billing), None, "open");
    let mut agent = app.sign_in("agent@acme.test");
    assert!(
        agent
            .get("/conversations?view=teams")
            .body
            .contains("id=\"bulk-form\"")
    );
    let ids = [a.to_string(), b.to_string(), hidden.to_string()];
    let assign = agent.post_form(
        "/conversations/bulk",
        &[
            ("action", "assign"),
            ("assignee", &alan.to_string()),
            ("ids", &ids[0]),
            ("ids", &ids[1]),
            ("ids", &ids[2]),
            ("view", "teams"),
        ],
    );
    assert_eq!(
        assign.location.as_deref(),
        Some("/conversations?view=teams")
    );
    assert_eq!(
        app.count(&format!("conversations WHERE assignee_id = {alan}")),
        2
    );
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {hidden} AND assignee_id IS NULL"
        )),
        1,
        "the hidden one is untouched"
    );
    agent
        .post_form(
            "/conversations/bulk",
            &[
                ("action", "tag"),
                ("tag", "Printers"),
                ("ids", &ids[0]),
                ("ids", &ids[2]),
            ],
        )
        .expect_done();
    assert_eq!(app.count("conversation_tags"), 1);
    agent
        .post_form(
            "/conversations/bulk",
            &[
                ("action", "close"),
                ("ids", &ids[0]),
                ("ids", &ids[1]),
                ("ids", &ids[2]),
            ],
        )
        .expect_done();
    assert_eq!(app.count("conversations WHERE status = 'done'"), 2);
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {hidden} AND status = 'open'"
        )),
        1
    );

    let mut cora = app.sign_in("collab@acme.test");
    assert!(
        !cora
            .get("/conversations?view=done")
            .body
            .contains("bulk-form"),
        "no bulk actions for collaborators"
    );
    let refused = cora.post_form(
        "/conversations/bulk",
        &[("action", "close"), ("ids", &ids[0])],
    );
    assert_eq!(refused.status, 403);
});

db_test!(the_inbox_opens_on_a_view_that_holds_something, |app| {
    let app = app.with_org();
    let support = app.staff();
    let carl = app.customer_with_phone();
    let alan = app.user_id("agent@acme.test");
    app.conversation("Printer on fire", carl, Some(support), None, "open");
    app.conversation("Lost parcel", carl, None, None, "open");
    let opens_on = |email: &str, path: &str, view: &str| {
        let page = app.sign_in(email).get(path);
        assert!(
            page.body.contains(&format!(
                "href=\"/conversations?view={view}\" aria-current=\"page\""
            )),
            "{email} {path} should open on {view}"
        );
        page.body
    };
    // Nothing assigned to the owner, who is in no team: everything.
    opens_on("owner@acme.test", "/conversations", "all");
    // Nothing assigned to Alan: his team's conversations.
    opens_on("agent@acme.test", "/conversations", "teams");
    app.conversation("Toner smudges", carl, Some(support), Some(alan), "open");
    opens_on("agent@acme.test", "/conversations", "mine");
    // A view asked for is the view shown, empty or not.
    opens_on("owner@acme.test", "/conversations?view=mine", "mine");
    // Collaborators are never assigned: no Mine or Unassigned, and their
    // teams' conversations while nobody has mentioned them.
    let body = opens_on("collab@acme.test", "/conversations", "teams");
    assert!(
        !body.contains("view=mine\"") && !body.contains("view=unassigned\""),
        "{body}"
    );
    opens_on("collab@acme.test", "/conversations?view=mine", "teams");

    // The view chosen last opens again, empty or not, until another is chosen.
    let mut alan_client = app.sign_in("agent@acme.test");
    let is_current = |body: &str, view: &str| {
        body.contains(&format!(
            "href=\"/conversations?view={view}\" aria-current=\"page\""
        ))
    };
    assert!(is_current(&alan_client.get("/conversations").body, "mine"));
    let chosen = alan_client.get("/conversations?view=unassigned");
    assert!(is_current(&chosen.body, "unassigned"));
    assert!(is_current(
        &alan_client.get("/conversations").body,
        "unassigned"
    ));
    let chosen = alan_client.get("/conversations?view=teams");
    assert!(is_current(&chosen.body, "teams"));
    assert!(is_current(&alan_client.get("/conversations").body, "teams"));
    // Another session (a new sign-in) starts from the usual default.
    opens_on("agent@acme.test", "/conversations", "mine");
});
