//! The daily work: replies emailed with threading, properties and snoozes, keyset views, the contact form, agents opening conversations, undelivered replies.

use super::*;

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
        Some(format!(
            "/conversations/{id}?notice=replied#message-{}",
            app.newest_message(id)
        ))
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

db_test!(a_reply_can_mark_done_or_pending_in_one_step, |app| {
    let app = app.with_org();
    let (support, _, carl) = workspace(&app);
    let first = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let second = app.conversation("Toner smudges", carl, Some(support), None, "open");
    let mut alan = app.sign_in("agent@acme.test");
    let page = alan.get(&format!("/conversations/{first}"));
    assert!(
        page.body
            .contains("name=\"then\" value=\"done\">Send and mark done<")
    );
    assert!(
        page.body
            .contains("name=\"then\" value=\"pending\">Send and set pending<")
    );
    let status = |id: i64| {
        app.count(&format!(
            "conversations WHERE id = {id} AND status = 'done'"
        )) * 2
            + app.count(&format!(
                "conversations WHERE id = {id} AND status = 'pending'"
            ))
    };
    // Nothing to send: neither the reply nor the status change happens.
    let empty = alan.post_form(
        &format!("/conversations/{first}/reply"),
        &[("body", " "), ("then", "done")],
    );
    assert_eq!(empty.status, 422);
    assert_eq!(status(first), 0, "still open");
    let done = alan.post_form(
        &format!("/conversations/{first}/reply"),
        &[("body", "Fixed, closing."), ("then", "done")],
    );
    assert_eq!(
        done.location,
        Some(format!(
            "/conversations/{first}?notice=replied_done#message-{}",
            app.newest_message(first)
        ))
    );
    assert_eq!(status(first), 2, "done");
    assert_eq!(
        app.count(&format!(
            "messages WHERE conversation_id = {first} AND kind = 'reply'"
        )),
        1
    );
    let shown = alan.get(done.location.as_deref().unwrap_or_default());
    assert!(
        shown
            .body
            .contains("Reply sent and the conversation marked done.")
    );
    let pending = alan.post_form(
        &format!("/conversations/{second}/reply"),
        &[("body", "Could you send a photo?"), ("then", "pending")],
    );
    assert_eq!(
        pending.location,
        Some(format!(
            "/conversations/{second}?notice=replied_pending#message-{}",
            app.newest_message(second)
        ))
    );
    assert_eq!(status(second), 1, "pending");
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
        Some(format!(
            "/conversations/{id}?notice=updated#properties-title"
        ))
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
        // Kinds and states in words, in the counts too.
        assert!(outbox_page.body.contains("<td>Reply</td>"), "the kind");
        assert!(outbox_page.body.contains("<dt>Failed</dt>"), "the count");
        assert!(!outbox_page.body.contains("<td>reply</td>"));
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

// The conversation service answers every problem of the form at once: the
// text checks and a team that does not exist, in one round; nothing is written.
db_test!(
    the_new_conversation_form_shows_every_problem_at_once,
    |app| {
        let app = app.with_org();
        workspace(&app);
        let mut owner = app.sign_in("owner@acme.test");
        let refused = owner.post_form(
            "/conversations/new",
            &[
                ("email", "not-an-address"),
                ("name", "Ruth"),
                ("subject", ""),
                ("message", "She called."),
                ("team", "987654"),
                ("assignee", ""),
            ],
        );
        assert_eq!(refused.status, 422);
        for message in [
            "Enter an email address like name@example.com.",
            "This field is required.",
            "This team does not exist.",
        ] {
            assert!(refused.body.contains(message), "{message} missing");
        }
        assert!(refused.body.contains("She called."), "input kept");
        assert_eq!(app.count("conversations"), 0);
        assert_eq!(app.count("customers WHERE email = 'not-an-address'"), 0);
    }
);

db_test!(
    the_inbox_shows_the_newest_message_and_how_long_the_customer_waits,
    |app| {
        let app = app.with_org();
        let (support, _, carl) = workspace(&app);
        let alan = app.user_id("agent@acme.test");
        let id = app.conversation("Printer on fire", carl, Some(support), Some(alan), "open");
        let at = |ago: Duration| {
            (app.clock.now() - ago)
                .format("%Y-%m-%d %H:%M:%S")
                .to_string()
        };
        app.sql(&format!(
            "INSERT INTO messages (conversation_id, kind, author_customer_id, body, created_at) \
         VALUES ({id}, 'customer', {carl}, 'It smokes.', '{}'), \
                ({id}, 'customer', {carl}, 'Now it is on fire!', '{}')",
            at(Duration::hours(3)),
            at(Duration::hours(2)),
        ));
        let mut agent = app.sign_in("agent@acme.test");
        let row = |agent: &mut Client| {
            let page = agent.get("/conversations?view=mine");
            assert_eq!(page.status, 200);
            let start = page.body.find("class=\"cell-subject\"").expect("a row");
            let end = page.body[start..].find("</tr>").expect("row end") + start;
            page.body[start..end].to_string()
        };
        let first = row(&mut agent);
        assert!(
            first.contains("<span class=\"snippet\">Now it is on fire!</span>"),
            "{first}"
        );
        assert!(
            first.contains(">Waiting 3 h</span>"),
            "since the first unanswered one: {first}"
        );

        // A note is the newest message but does not answer the customer.
        agent
            .post_form(
                &format!("/conversations/{id}/notes"),
                &[("body", "Calling the fire brigade.")],
            )
            .expect_done();
        let noted = row(&mut agent);
        assert!(
            noted.contains(">Calling the fire brigade.</span>") && noted.contains(">Waiting 3 h<")
        );

        // A reply ends the wait; the customer's next message starts a new one.
        agent
            .post_form(
                &format!("/conversations/{id}/reply"),
                &[("body", "Leave the building.")],
            )
            .expect_done();
        let replied = row(&mut agent);
        assert!(replied.contains(">Leave the building.</span>") && !replied.contains("Waiting"));
        app.clock.advance(Duration::minutes(5));
        app.sql(&format!(
            "INSERT INTO messages (conversation_id, kind, author_customer_id, body, created_at) \
         VALUES ({id}, 'customer', {carl}, 'Done, thanks.', '{}')",
            at(Duration::minutes(4)),
        ));
        assert!(row(&mut agent).contains(">Waiting 4 min<"));
        let token = app.api_token("agent@acme.test");
        let listed = app
            .client()
            .api(
                "GET",
                "/api/v1/conversations?view=mine",
                Some(&token),
                None,
                &[],
            )
            .json();
        assert_eq!(listed["data"][0]["preview"], "Done, thanks.");
        assert!(listed["data"][0]["waiting_since"].is_string());

        // Done conversations wait for nobody; in German the words are German.
        app.sql(&format!(
            "UPDATE users SET language = 'de' WHERE id = {alan}"
        ));
        let german = agent.get("/conversations?view=mine");
        assert!(
            german.body.contains(">Wartet seit 4 Min.<"),
            "{}",
            german.body
        );
        app.sql(&format!(
            "UPDATE conversations SET status = 'done' WHERE id = {id}"
        ));
        assert!(
            !agent
                .get("/conversations?view=done")
                .body
                .contains("Wartet")
        );
    }
);

db_test!(the_inbox_marks_what_is_new_for_each_reader, |app| {
    let app = app.with_org();
    let (support, _, carl) = workspace(&app);
    let alan = app.user_id("agent@acme.test");
    let id = app.conversation("Printer on fire", carl, Some(support), Some(alan), "open");
    let mut agent = app.sign_in("agent@acme.test");
    let mut owner = app.sign_in("owner@acme.test");
    // Alan sees his team's queue; the owner sees everything.
    let unread = |client: &mut Client| {
        let page = client.get("/conversations?view=teams").body;
        let page = if page.contains("Printer on fire") {
            page
        } else {
            client.get("/conversations?view=all").body
        };
        assert!(page.contains("Printer on fire"));
        page.contains("<tr class=\"row--unread\">")
            && page.contains("<span class=\"visually-hidden\">New activity: </span>Printer on fire")
    };
    assert!(unread(&mut agent), "never opened");
    assert_eq!(agent.get(&format!("/conversations/{id}")).status, 200);
    assert!(!unread(&mut agent), "opened");
    assert_eq!(
        app.count(&format!(
            "conversation_reads WHERE user_id = {alan} AND conversation_id = {id}"
        )),
        1
    );
    // The owner writes a note: new for Alan, not for the owner, whose
    // page came back showing it.
    app.clock.advance(Duration::minutes(1));
    let noted = owner.post_form(
        &format!("/conversations/{id}/notes"),
        &[("body", "Any news?")],
    );
    let back = noted.location.clone().expect("back to the page");
    assert_eq!(owner.get(&back).status, 200);
    assert!(!unread(&mut owner));
    assert!(unread(&mut agent), "new activity");
    assert_eq!(agent.get(&format!("/conversations/{id}")).status, 200);
    assert!(!unread(&mut agent));
});

db_test!(the_inbox_sorts_by_activity_waiting_and_priority, |app| {
    let app = app.with_org();
    let (support, _, carl) = workspace(&app);
    let at = |minutes: i64| {
        (app.clock.now() - Duration::minutes(minutes))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    // (subject, priority, last activity and waiting since, minutes ago)
    let shapes: [(&str, &str, i64, Option<i64>); 5] = [
        ("Quiet low", "low", 60, None),
        ("Urgent old", "urgent", 300, Some(300)),
        ("Normal waiting long", "normal", 120, Some(600)),
        ("High recent", "high", 10, Some(10)),
        ("Normal quiet", "normal", 30, None),
    ];
    let mut ids = std::collections::HashMap::new();
    for (subject, priority, active, waiting) in shapes {
        let id = app.conversation(subject, carl, Some(support), None, "open");
        let waiting = waiting.map_or("NULL".to_string(), |m| format!("'{}'", at(m)));
        app.sql(&format!(
            "UPDATE conversations SET priority = '{priority}', last_activity_at = '{}', \
             waiting_since = {waiting} WHERE id = {id}",
            at(active)
        ));
        ids.insert(id, subject);
    }
    let by_activity = [
        "High recent",
        "Normal quiet",
        "Quiet low",
        "Normal waiting long",
        "Urgent old",
    ];
    let by_waiting = [
        "Normal waiting long",
        "Urgent old",
        "High recent",
        "Normal quiet",
        "Quiet low",
    ];
    let by_priority = [
        "Urgent old",
        "High recent",
        "Normal quiet",
        "Normal waiting long",
        "Quiet low",
    ];
    let shown = |body: &str| -> Vec<&str> {
        let mut found: Vec<(usize, &str)> = by_activity
            .iter()
            .map(|s| (body.find(&format!(">{s}</a>")).expect(s), *s))
            .collect();
        found.sort();
        found.into_iter().map(|(_, s)| s).collect()
    };

    let mut owner = app.sign_in("owner@acme.test");
    let page = owner.get("/conversations?view=all");
    assert_eq!(shown(&page.body), by_activity, "newest activity first");
    assert!(page.body.contains("<label for=\"sort\">Sort by</label>"));
    let page = owner.get("/conversations?view=all&sort=waiting");
    assert_eq!(shown(&page.body), by_waiting);
    assert!(
        page.body
            .contains("<option value=\"waiting\" selected>Waiting longest</option>")
    );
    let page = owner.get("/conversations?view=all");
    assert_eq!(
        shown(&page.body),
        by_waiting,
        "the chosen order is remembered"
    );
    let page = owner.get("/conversations?view=all&sort=priority");
    assert_eq!(shown(&page.body), by_priority);
    // Done conversations have no one waiting: newest first.
    app.sql("UPDATE conversations SET status = 'done'");
    let page = owner.get("/conversations?view=done&sort=waiting");
    assert_eq!(shown(&page.body), by_activity);
    app.sql("UPDATE conversations SET status = 'open'");

    // The API pages through each order two at a time, across its segments.
    let token = app.api_token("owner@acme.test");
    let mut client = app.client();
    for (sort, expected) in [
        ("activity", by_activity),
        ("waiting", by_waiting),
        ("priority", by_priority),
    ] {
        let mut seen = Vec::new();
        let mut cursor = String::new();
        loop {
            let page = client
                .api(
                    "GET",
                    &format!("/api/v1/conversations?view=all&sort={sort}&limit=2{cursor}"),
                    Some(&token),
                    None,
                    &[],
                )
                .expect_status(200)
                .json();
            for row in page["data"].as_array().expect("rows") {
                seen.push(ids[&row["id"].as_i64().expect("an id")]);
            }
            match page["next_cursor"].as_str() {
                Some(next) => cursor = format!("&cursor={next}"),
                None => break,
            }
        }
        assert_eq!(seen, expected, "sort={sort}");
    }
    let refused = client
        .api(
            "GET",
            "/api/v1/conversations?sort=oldest",
            Some(&token),
            None,
            &[],
        )
        .expect_status(400)
        .json();
    assert_eq!(refused["error"]["code"], "invalid_sort");
});
