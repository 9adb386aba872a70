//! The conversations workspace: visibility in every list, count and URL;
//! what collaborators may and may not do; replies through the outbox with
//! threading headers to a real SMTP server; notes that never leave.

use chrono::Duration;

use crate::db_test;
use crate::smtp::SmtpSink;
use crate::support::*;

/// Support and Billing teams; a team-only agent and collaborator in Support.
fn workspace(app: &TestApp) -> (i64, i64, i64) {
    let support = app.team("Support");
    let billing = app.team("Billing");
    app.user("agent@acme.test", "Alan Agent")
        .in_team(support)
        .teams_only()
        .create();
    app.user("collab@acme.test", "Cora Collaborator")
        .collaborator()
        .in_team(support)
        .teams_only()
        .create();
    let carl = app.customer_with_phone();
    (support, billing, carl)
}

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
        Some(format!("/conversations/{id}?notice=noted"))
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

db_test!(replies_are_emailed_with_threading_headers, |app| {
    let app = app.with_org();
    let (support, _, carl) = workspace(&app);
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    app.sql(&format!(
        "INSERT INTO messages (conversation_id, kind, author_customer_id, body, created_at, email_message_id) \
         VALUES ({id}, 'customer', {carl}, 'It is on fire!', '2026-11-01 10:00:00', '<first@customer.test>')"
    ));
    let sink = SmtpSink::start();
    let mut alan = app.sign_in("agent@acme.test");
    let empty = alan.post_form(&format!("/conversations/{id}/reply"), &[("body", "  ")]);
    assert_eq!(empty.status, 422);
    let sent = alan.post_form(
        &format!("/conversations/{id}/reply"),
        &[("body", "Please unplug it **now**.")],
    );
    assert_eq!(
        sent.location,
        Some(format!("/conversations/{id}?notice=replied"))
    );
    assert_eq!(
        app.count("outbox WHERE kind = 'reply' AND status = 'queued'"),
        1,
        "queued with the reply"
    );
    assert_eq!(app.run_jobs(Some(sink.port)).sent, 1);
    let mail = sink.wait_for(1)[0].clone();
    assert_eq!(mail.to, vec!["carl@customer.test".to_string()]);
    assert_eq!(
        mail.header("Subject"),
        Some(format!("Re: Printer on fire [#{id}]"))
    );
    assert_eq!(
        mail.header("In-Reply-To").as_deref(),
        Some("<first@customer.test>")
    );
    assert_eq!(
        mail.header("References").as_deref(),
        Some("<first@customer.test>")
    );
    let message_id = mail.header("Message-ID").expect("Message-ID");
    assert!(
        message_id.starts_with(&format!("<reply-{id}-")),
        "{message_id}"
    );
    assert_eq!(
        app.count(&format!(
            "messages WHERE kind = 'reply' AND email_message_id = '{message_id}'"
        )),
        1
    );
    assert!(mail.body().contains("Please unplug it **now**."));
});

db_test!(properties_change_and_snoozed_conversations_reopen, |app| {
    let app = app.with_org();
    let (support, billing, carl) = workspace(&app);
    let alan = app.user_id("agent@acme.test");
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let mut owner = app.sign_in("owner@acme.test");
    let past = owner.post_form(
        &format!("/conversations/{id}/properties"),
        &[
            ("status", "snoozed"),
            ("snoozed_until", "2001-01-01T09:00"),
            ("priority", "high"),
            ("assignee", ""),
            ("team", &support.to_string()),
            ("tags", ""),
        ],
    );
    assert_eq!(past.status, 422);
    assert!(
        past.body
            .contains("Choose a time in the future to snooze until.")
    );
    assert!(
        past.body.contains("value=\"2001-01-01T09:00\""),
        "input kept"
    );
    let later = (app.clock.now() + Duration::days(1))
        .format("%Y-%m-%dT%H:%M")
        .to_string();
    let saved = owner.post_form(
        &format!("/conversations/{id}/properties"),
        &[
            ("status", "snoozed"),
            ("snoozed_until", &later),
            ("priority", "urgent"),
            ("assignee", &alan.to_string()),
            ("team", &billing.to_string()),
            ("tags", "VIP, hardware, vip"),
        ],
    );
    assert_eq!(
        saved.location,
        Some(format!("/conversations/{id}?notice=updated"))
    );
    assert_eq!(app.count(&format!("conversations WHERE id = {id} AND status = 'snoozed' AND priority = 'urgent' AND assignee_id = {alan} AND team_id = {billing}")), 1);
    assert_eq!(
        app.count(&format!("conversation_tags WHERE conversation_id = {id}")),
        2
    );
    assert!(
        owner
            .get("/conversations?view=all&tag=vip")
            .body
            .contains("Printer on fire")
    );
    assert!(
        !owner
            .get("/conversations?view=all&tag=billing")
            .body
            .contains("Printer on fire")
    );
    assert_eq!(app.run_jobs(None).reopened, 0);
    app.clock.advance(Duration::days(2));
    assert_eq!(app.run_jobs(None).reopened, 1);
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {id} AND status = 'open' AND snoozed_until IS NULL"
        )),
        1
    );
});

db_test!(views_page_through_thousands_with_keyset_cursors, |app| {
    let app = app.with_org();
    let (support, _, carl) = workspace(&app);
    for n in 0..60 {
        let id = app.conversation(
            &format!("Question {n:02}"),
            carl,
            Some(support),
            None,
            "open",
        );
        app.sql(&format!(
            "UPDATE conversations SET last_activity_at = '2026-11-01 10:{n:02}:00' WHERE id = {id}"
        ));
    }
    let mut owner = app.sign_in("owner@acme.test");
    let first = owner.get("/conversations?view=unassigned");
    assert!(first.body.contains("Question 59") && first.body.contains("Question 10"));
    assert!(!first.body.contains("Question 09"));
    let next = first
        .body
        .split("rel=\"next\"")
        .next()
        .and_then(|b| b.rsplit("href=\"").next())
        .map(|h| {
            h.split('"')
                .next()
                .unwrap_or("")
                .replace("&amp;", "&")
                .replace("&#38;", "&")
        })
        .expect("next");
    let second = owner.get(&next);
    assert!(second.body.contains("Question 09") && second.body.contains("Question 00"));
    assert!(!second.body.contains("Question 10"));
    assert!(
        first
            .body
            .contains("<span class=\"count\" data-view=\"unassigned\">60</span>")
    );
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

db_test!(customers_write_in_through_the_public_contact_form, |app| {
    let app = app.with_org();
    let support = app.team("Support");
    app.user("agent@acme.test", "Alan Agent")
        .in_team(support)
        .teams_only()
        .create();
    let mut owner = app.sign_in("owner@acme.test");
    let saved = owner.post_form(
        "/settings/organisation",
        &[
            ("name", "Acme Support"),
            ("default_language", "en"),
            ("timezone", "Europe/Berlin"),
            ("allowance", "unlimited"),
            ("intake_team", &support.to_string()),
        ],
    );
    saved.expect_redirect("/settings/organisation");
    let mut visitor = app.client();
    let page = visitor.get("/contact");
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<label for=\"message\">Message</label>"));
    let bad = visitor.post_form(
        "/contact",
        &[
            ("name", "Wile"),
            ("email", "nope"),
            ("subject", "Help"),
            ("message", "Anvils!"),
            ("website", ""),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("value=\"Wile\"") && bad.body.contains("Anvils!"),
        "input kept"
    );
    let bot = visitor.post_form(
        "/contact",
        &[
            ("name", "Bot"),
            ("email", "bot@spam.test"),
            ("subject", "Buy"),
            ("message", "Cheap"),
            ("website", "http://spam.test"),
        ],
    );
    assert_eq!(bot.status, 200);
    assert_eq!(app.count("conversations"), 0, "the honeypot stores nothing");
    let sent = visitor.post_form(
        "/contact",
        &[
            ("name", "Wile Coyote"),
            ("email", "Wile@Acme.test"),
            ("subject", "Rocket skates"),
            ("message", "They **exploded**."),
            ("website", ""),
        ],
    );
    assert_eq!(sent.status, 200);
    assert!(sent.body.contains("We received your message (reference #"));
    assert_eq!(app.count("conversations WHERE channel = 'web_form' AND status = 'open' AND subject = 'Rocket skates'"), 1);
    assert_eq!(
        app.count("customers WHERE email = 'wile@acme.test' AND name = 'Wile Coyote'"),
        1
    );
    assert_eq!(
        app.count("messages WHERE kind = 'customer' AND body = 'They **exploded**.'"),
        1
    );
    for n in 0..4 {
        visitor
            .post_form(
                "/contact",
                &[
                    ("name", "Wile"),
                    ("email", "wile@acme.test"),
                    ("subject", &format!("Again {n}")),
                    ("message", "More"),
                    ("website", ""),
                ],
            )
            .expect_done();
    }
    let limited = visitor.post_form(
        "/contact",
        &[
            ("name", "Wile"),
            ("email", "wile@acme.test"),
            ("subject", "Sixth"),
            ("message", "More"),
            ("website", ""),
        ],
    );
    assert_eq!(limited.status, 429);
    assert!(limited.body.contains("Please wait a little"));
    assert_eq!(app.count("conversations"), 5);
    assert_eq!(app.count("customers"), 1, "the same customer each time");
    assert!(
        app.sign_in("agent@acme.test")
            .get("/conversations?view=unassigned")
            .body
            .contains("Rocket skates"),
        "it landed in the intake team's queue, where team-only agents see it"
    );
    assert_eq!(
        app.count(&format!("conversations WHERE team_id = {support}")),
        5
    );
    // The limit is the sender's: a second customer on the same network
    // (the same client address) still gets through.
    let neighbour = visitor.post_form(
        "/contact",
        &[
            ("name", "Road Runner"),
            ("email", "beep@acme.test"),
            ("subject", "Seeds"),
            ("message", "Beep beep"),
            ("website", ""),
        ],
    );
    assert_eq!(neighbour.status, 200, "{}", neighbour.body);
    assert_eq!(app.count("conversations"), 6);
    let limits = confer::handlers::contact::PER_CLIENT_PER_HOUR - 7;
    for n in 0..limits {
        let email = format!("sender{n}@acme.test");
        let sent = visitor.post_form(
            "/contact",
            &[
                ("name", "S"),
                ("email", &email),
                ("subject", "S"),
                ("message", "S"),
                ("website", ""),
            ],
        );
        assert_eq!(sent.status, 200, "message {n}");
    }
    let flood = visitor.post_form(
        "/contact",
        &[
            ("name", "S"),
            ("email", "last@acme.test"),
            ("subject", "S"),
            ("message", "S"),
            ("website", ""),
        ],
    );
    assert_eq!(
        flood.status, 429,
        "one client is limited too, at a higher rate"
    );
});

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
        Some(format!("/conversations/{id}?notice=noted&unseen={bill}"))
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
        assert!(found.body.contains("1 conversations"));
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

db_test!(agents_open_conversations_on_behalf_of_customers, |app| {
    let app = app.with_org();
    let (support, billing, _) = workspace(&app);
    let mut alan = app.sign_in("agent@acme.test");
    let form = alan.get("/conversations/new");
    assert!(
        form.body
            .contains(&format!("<option value=\"{support}\" selected>")),
        "their team is preselected"
    );
    let elsewhere = alan.post_form(
        "/conversations/new",
        &[
            ("email", "ruth@new.test"),
            ("name", "Ruth"),
            ("subject", "Call about billing"),
            ("message", "She called."),
            ("team", &billing.to_string()),
            ("assignee", ""),
        ],
    );
    assert_eq!(elsewhere.status, 422);
    assert!(elsewhere.body.contains("Choose one of your teams"));
    assert!(elsewhere.body.contains("She called."), "input kept");
    let created = alan.post_form(
        "/conversations/new",
        &[
            ("email", "Ruth@New.test"),
            ("name", "Ruth Rogers"),
            ("subject", "Call about printers"),
            ("message", "She called about the printer."),
            ("team", &support.to_string()),
            ("assignee", ""),
        ],
    );
    let location = created.location.expect("redirect");
    assert!(location.starts_with("/conversations/"));
    assert!(
        alan.get(&location)
            .body
            .contains("She called about the printer.")
    );
    assert_eq!(app.count(&format!("conversations WHERE subject = 'Call about printers' AND team_id = {support} AND status = 'open'")), 1);
    assert_eq!(
        app.count("customers WHERE email = 'ruth@new.test' AND name = 'Ruth Rogers'"),
        1
    );
    let mut cora = app.sign_in("collab@acme.test");
    assert_eq!(cora.get("/conversations/new").status, 403);
    assert_eq!(
        cora.post_form(
            "/conversations/new",
            &[("email", "x@y.test"), ("subject", "x"), ("message", "x")]
        )
        .status,
        403
    );
});

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

db_test!(
    undelivered_replies_show_on_the_conversation_and_can_be_retried,
    |app| {
        let app = app.with_org();
        let (support, _, carl) = workspace(&app);
        let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
        let sink = SmtpSink::start();
        sink.set_down(true);
        let mut owner = app.sign_in("owner@acme.test");
        owner
            .post_form(
                &format!("/conversations/{id}/reply"),
                &[("body", "On our way.")],
            )
            .expect_done();
        app.run_jobs(Some(sink.port));
        let page = owner.get(&format!("/conversations/{id}"));
        assert!(
            page.body.contains("Not delivered yet, retrying:"),
            "the failure shows on the reply"
        );
        app.sql("UPDATE outbox SET status = 'failed', last_error = '550 mailbox unavailable'");
        let page = owner.get(&format!("/conversations/{id}"));
        assert!(
            page.body
                .contains("Could not be delivered: 550 mailbox unavailable")
        );
        let outbox_page = owner.get("/settings/outbox?status=failed");
        assert!(
            outbox_page.body.contains("carl@customer.test")
                && outbox_page.body.contains("550 mailbox unavailable")
        );
        assert!(
            outbox_page.body.contains("No SMTP server is configured"),
            "the page says where mail goes"
        );
        let mail = {
            use confer::db::schema::outbox;
            use diesel::prelude::*;
            outbox::table
                .select(outbox::id)
                .first::<i64>(&mut app.conn())
                .expect("mail")
        };
        let retried = owner.post_form(&format!("/settings/outbox/{mail}/retry"), &[]);
        assert_eq!(
            retried.location.as_deref(),
            Some("/settings/outbox?notice=retried")
        );
        assert_eq!(app.count("audit_log WHERE action = 'outbox.retried'"), 1);
        sink.set_down(false);
        assert_eq!(app.run_jobs(Some(sink.port)).sent, 1);
        assert!(
            !owner
                .get(&format!("/conversations/{id}"))
                .body
                .contains("Could not be delivered")
        );
    }
);
