//! Mentions, assignments and search: who is told, who is suggested, what search finds within the reader's scope.

use super::*;

db_test!(mentions_notify_only_people_who_can_see, |app| {
    let app = app.with_org();
    let (support, billing, carl) = workspace(&app);
    app.user("bill@acme.test", "Bill Billing")
        .in_team(billing)
        .teams_only()
        .create();
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let sink = SmtpSink::start();
    let mut alan = app.sign_in("agent@acme.test");
    let noted = alan.post_form(
        &format!("/conversations/{id}/notes"),
        &[(
            "body",
            "@cora collaborator can you check the toner? Also @bill@acme.test, thoughts?",
        )],
    );
    let bill = app.user_id("bill@acme.test");
    assert_eq!(
        noted.location,
        Some(format!(
            "/conversations/{id}?notice=noted&unseen={bill}#message-{}",
            app.newest_message(id)
        ))
    );
    let page = alan.get(noted.location.as_deref().unwrap_or("/"));
    assert!(
        page.body
            .contains("Not notified: Bill Billing cannot see this conversation.")
    );
    let cora = app.user_id("collab@acme.test");
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {cora} AND kind = 'mention' AND conversation_id = {id}"
        )),
        1
    );
    assert_eq!(
        app.count(&format!("notifications WHERE user_id = {bill}")),
        0,
        "no notification for who cannot see"
    );
    app.run_jobs(Some(sink.port));
    let mail = sink.wait_for(1)[0].clone();
    assert_eq!(mail.to, vec!["collab@acme.test".to_string()]);
    let subject = mail.header("Subject").unwrap_or_default();
    assert!(subject.contains("Alan Agent mentioned you in"), "{subject}");
    assert!(
        mail.header("Message-ID")
            .is_some_and(|id| id.starts_with("<confer.") && id.ends_with("@localhost>")),
        "notifications carry a Message-ID"
    );
    assert!(
        mail.body()
            .contains(&format!("http://127.0.0.1/conversations/{id}"))
    );
    assert_eq!(sink.messages().len(), 1, "only Cora got an email");

    let mut cora_client = app.sign_in("collab@acme.test");
    let home = cora_client.get("/");
    assert!(
        home.body.contains("data-testid=\"unread\">1<"),
        "the bell shows one unread"
    );
    let list = cora_client.get("/notifications");
    assert!(
        list.body
            .contains("Alan Agent mentioned you in “Printer on fire”")
    );
    assert!(
        cora_client
            .get("/conversations?view=mentions")
            .body
            .contains("Printer on fire")
    );
    cora_client
        .get(&format!("/conversations/{id}"))
        .expect_done();
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {cora} AND read_at IS NULL"
        )),
        0,
        "opening reads it"
    );
    assert!(!cora_client.get("/").body.contains("data-testid=\"unread\""));
});

db_test!(assignments_notify_and_email_settings_are_respected, |app| {
    let app = app.with_org();
    let (support, _, carl) = workspace(&app);
    let alan = app.user_id("agent@acme.test");
    app.sql(&format!(
        "UPDATE users SET email_on_assignment = FALSE WHERE id = {alan}"
    ));
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let mut owner = app.sign_in("owner@acme.test");
    owner
        .post_form(
            &format!("/conversations/{id}/properties"),
            &[
                ("status", "open"),
                ("priority", "normal"),
                ("assignee", &alan.to_string()),
                ("team", &support.to_string()),
                ("tags", ""),
            ],
        )
        .expect_done();
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {alan} AND kind = 'assignment'"
        )),
        1
    );
    assert_eq!(
        app.count("outbox WHERE kind = 'notification'"),
        0,
        "Alan turned assignment emails off"
    );
    let mut alan_client = app.sign_in("agent@acme.test");
    assert!(
        alan_client
            .get("/notifications")
            .body
            .contains("Olivia Owner assigned “Printer on fire” to you")
    );
    let read_all = alan_client.post_form("/notifications/read-all", &[]);
    assert_eq!(read_all.location.as_deref(), Some("/notifications"));
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {alan} AND read_at IS NULL"
        )),
        0
    );
    // Saving the profile sets the email choices.
    alan_client
        .post_form(
            "/profile",
            &[
                ("name", "Alan Agent"),
                ("language", ""),
                ("timezone", ""),
                ("email_on_mention", "on"),
            ],
        )
        .expect_done();
    assert_eq!(
        app.count(&format!(
            "users WHERE id = {alan} AND email_on_mention = TRUE AND email_on_assignment = FALSE AND email_on_reply = FALSE"
        )),
        1
    );
    // A reply someone else sends in Alan's conversation notifies him; he
    // turned reply emails off with the profile form above.
    owner
        .post_form(
            &format!("/conversations/{id}/reply"),
            &[("body", "We are on it.")],
        )
        .expect_done();
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {alan} AND kind = 'reply'"
        )),
        1
    );
    assert_eq!(
        app.count("outbox WHERE kind = 'notification' AND recipient = 'agent@acme.test'"),
        0
    );
    assert!(
        alan_client
            .get("/notifications")
            .body
            .contains("Olivia Owner replied in “Printer on fire”")
    );
    alan_client
        .post_form(&format!("/conversations/{id}/reply"), &[("body", "Done.")])
        .expect_done();
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {alan} AND kind = 'reply'"
        )),
        1,
        "not for his own replies"
    );
    // When the conversation moves to a team Alan is not in, its notification disappears from his list.
    let other = app.team("Elsewhere");
    app.sql(&format!(
        "UPDATE conversations SET team_id = {other} WHERE id = {id}"
    ));
    assert!(
        !alan_client
            .get("/notifications")
            .body
            .contains("Printer on fire")
    );
});

#[test]
fn mentions_match_names_and_emails_at_word_boundaries() {
    let people = vec![
        (1, "Ann Lee".to_string(), "ann@acme.test".to_string()),
        (2, "Anna Berg".to_string(), "anna@acme.test".to_string()),
    ];
    assert_eq!(
        confer::mentions::mentioned("hi @ann lee, see this", &people),
        vec![1]
    );
    assert_eq!(
        confer::mentions::mentioned("ping @ANNA@acme.test.", &people),
        vec![2]
    );
    assert!(confer::mentions::mentioned("mail ann@acme.test without at-sign", &people).is_empty());
    assert_eq!(
        confer::mentions::mentioned("@Anna Berg and @Ann Lee", &people),
        vec![1, 2]
    );
}

db_test!(
    search_finds_words_in_notes_within_the_readers_scope,
    |app| {
        let app = app.with_org();
        let (support, billing, carl) = workspace(&app);
        app.user("manager@acme.test", "Mia Manager")
            .role(confer::policy::BuiltinRole::Manager)
            .in_team(support)
            .create();
        let ours = app.conversation("Printer trouble", carl, Some(support), None, "open");
        let theirs = app.conversation("Invoice question", carl, Some(billing), None, "done");
        let mut alan = app.sign_in("agent@acme.test");
        alan.post_form(
            &format!("/conversations/{ours}/notes"),
            &[("body", "The fuser unit looks scorched.")],
        )
        .expect_done();
        let mut owner = app.sign_in("owner@acme.test");
        owner
            .post_form(
                &format!("/conversations/{theirs}/notes"),
                &[("body", "Customer says the fuser invoice is wrong.")],
            )
            .expect_done();

        let found = alan.get("/search?q=fuser");
        assert_eq!(found.status, 200);
        assert!(
            found.body.contains("Printer trouble"),
            "a word in a note is found"
        );
        assert!(
            !found.body.contains("Invoice question"),
            "never another team's conversation"
        );
        assert!(found.body.contains("1 conversation<"));
        // Times at a glance, the exact one on hover (as in the inbox).
        assert!(
            found
                .body
                .contains("<td class=\"cell-when\"><time datetime=\""),
            "{}",
            found.body
        );
        assert!(
            owner
                .get("/search?q=fuser")
                .body
                .contains("Invoice question"),
            "owners see all"
        );
        assert!(
            owner
                .get("/search?q=printer")
                .body
                .contains("Printer trouble"),
            "subjects are searched"
        );
        assert!(
            !owner
                .get("/search?q=fuser&status=open")
                .body
                .contains("Invoice question"),
            "filters apply"
        );
        assert!(
            owner.get("/search?q=%22fuser%22+OR+(").status == 200,
            "odd input is no error"
        );
        let cora = app.sign_in("collab@acme.test").get("/search?q=scorched");
        assert!(
            cora.body.contains("Printer trouble"),
            "collaborators search notes they can see"
        );
        assert!(
            !cora.body.contains("/search.csv"),
            "no export for collaborators"
        );

        let mut cora_client = app.sign_in("collab@acme.test");
        assert_eq!(cora_client.get("/search.csv?q=fuser").status, 403);
        assert_eq!(
            alan.get("/search.csv?q=fuser").status,
            403,
            "agents may not export"
        );
        let mut mia = app.sign_in("manager@acme.test");
        let csv = mia.get("/search.csv?q=fuser");
        assert_eq!(csv.status, 200);
        assert!(
            csv.body
                .starts_with("id,subject,customer,status,priority,assignee,team,last_activity_utc")
        );
        assert!(csv.body.contains("Printer trouble") && csv.body.contains("Invoice question"));

        // Saved searches: personal, or shared with a team.
        let saved = alan.post_form(
            "/search/saved",
            &[
                ("name", "Fuser issues"),
                ("query", "q=fuser"),
                ("team", &support.to_string()),
            ],
        );
        assert_eq!(saved.location.as_deref(), Some("/search?q=fuser"));
        alan.post_form(
            "/search/saved",
            &[("name", "Mine only"), ("query", "q=toner"), ("team", "")],
        )
        .expect_done();
        let cora_page = cora_client.get("/search");
        assert!(cora_page.body.contains("Fuser issues") && !cora_page.body.contains("Mine only"));
        let sidebar = cora_client.get("/conversations");
        assert!(
            sidebar.body.contains("href=\"/search?q=fuser\"")
                && sidebar.body.contains("Fuser issues"),
            "shared searches appear beside the views"
        );
        let id: i64 = {
            use confer::db::schema::saved_searches as s;
            use diesel::prelude::*;
            s::table
                .filter(s::name.eq("Fuser issues"))
                .select(s::id)
                .first(&mut app.conn())
                .expect("saved")
        };
        assert_eq!(
            cora_client
                .post_form(&format!("/search/saved/{id}/delete"), &[])
                .status,
            404,
            "only its author deletes it"
        );
        assert_eq!(
            alan.post_form(&format!("/search/saved/{id}/delete"), &[])
                .status,
            303
        );
        assert_eq!(app.count("saved_searches"), 1);
    }
);

db_test!(mention_suggestions_list_only_people_who_can_see, |app| {
    let app = app.with_org();
    let (support, billing, carl) = workspace(&app);
    app.user("bill@acme.test", "Bill Billing")
        .in_team(billing)
        .teams_only()
        .create();
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let people = app
        .sign_in("agent@acme.test")
        .get(&format!("/conversations/{id}/mentionable"));
    assert_eq!(people.header("content-type"), Some("application/json"));
    let list: serde_json::Value = serde_json::from_str(&people.body).expect("json");
    let names: Vec<&str> = list
        .as_array()
        .expect("array")
        .iter()
        .filter_map(|p| p["name"].as_str())
        .collect();
    assert_eq!(
        names,
        vec!["Alan Agent", "Cora Collaborator", "Olivia Owner"]
    );
    app.sql("UPDATE org_settings SET mask_contacts_for_collaborators = TRUE");
    let for_cora = app
        .sign_in("collab@acme.test")
        .get(&format!("/conversations/{id}/mentionable"));
    assert!(for_cora.body.contains("Alan Agent"));
    let other = app.conversation("Invoice", carl, Some(billing), None, "open");
    assert_eq!(
        app.sign_in("collab@acme.test")
            .get(&format!("/conversations/{other}/mentionable"))
            .status,
        404
    );
});
