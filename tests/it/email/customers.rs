//! Customer mail opens and threads conversations, is rate limited per sender, and needs the current inbound token.

use super::*;

db_test!(customer_mail_opens_and_threads_conversations, |app| {
    let app = app.with_org();
    let (support, token) = email_workspace(&app);
    let mut mta = app.client();

    // A new mail opens a conversation for a new customer, in the intake
    // team's queue, joined to the organization of the domain.
    let (result, first) = outcome(&mta.post_mail(&token, &fixture("plain.eml")));
    assert_eq!(result, "created");
    let first = first.expect("conversation");
    assert_eq!(app.count(&format!("conversations WHERE id = {first} AND channel = 'email' AND team_id = {support} AND subject = 'Printer on fire'")), 1);
    assert_eq!(app.count("customers WHERE email = 'carla@customer.test' AND name = 'Carla Customer' AND organization_id IS NOT NULL"), 1);
    assert_eq!(app.count(&format!("messages WHERE conversation_id = {first} AND kind = 'customer' AND source = 'email' AND email_message_id = '<plain-1@customer.test>'")), 1);

    // The same mail again (an MTA retrying) adds nothing.
    let (result, again) = outcome(&mta.post_mail(&token, &fixture("plain.eml")));
    assert_eq!((result.as_str(), again), ("ignored", Some(first)));
    assert_eq!(app.count("messages"), 1);

    // An agent replies; the customer answers that reply (In-Reply-To) after
    // the conversation was closed: it joins and reopens it.
    let mut alan = app.sign_in("agent@acme.test");
    alan.post_form(
        &format!("/conversations/{first}/reply"),
        &[("body", "Have you tried turning it off?")],
    )
    .expect_done();
    let ours = {
        use confer::db::schema::outbox;
        use diesel::prelude::*;
        outbox::table
            .filter(outbox::kind.eq("reply"))
            .select(outbox::message_id.assume_not_null())
            .first::<String>(&mut app.conn())
            .expect("reply Message-ID")
    };
    app.sql(&format!(
        "UPDATE conversations SET status = 'done' WHERE id = {first}"
    ));
    let answer = customer_mail(
        "carla@customer.test",
        "Re: Printer on fire",
        "<c2@customer.test>",
        &ours,
        "Yes, twice.",
    );
    assert_eq!(
        outcome(&mta.post_mail(&token, &answer)),
        ("appended".into(), Some(first))
    );
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {first} AND status = 'open'"
        )),
        1
    );

    // References alone (a client that dropped In-Reply-To) thread as well,
    // also for the customer's own earlier Message-ID.
    let later = "From: carla@customer.test\r\nSubject: more\r\nMessage-ID: <c3@customer.test>\r\nReferences: <unknown@x.test> <c2@customer.test>\r\n\r\nAnd smoke.\r\n";
    assert_eq!(
        outcome(&mta.post_mail(&token, later.as_bytes())),
        ("appended".into(), Some(first))
    );

    // Outlook without threading headers: the [#id] in the subject, but only
    // from that conversation's customer.
    let outlook = fixture_text("outlook_reply.eml")
        .replace("[#2]", &format!("[#{first}]"))
        .replace("dan@acme.test", "carla@customer.test");
    assert_eq!(
        outcome(&mta.post_mail(&token, outlook.as_bytes())),
        ("appended".into(), Some(first))
    );
    let stranger = customer_mail(
        "mallory@evil.test",
        &format!("Re: [#{first}] let me in"),
        "<m1@evil.test>",
        "",
        "Hi",
    );
    let (result, other) = outcome(&mta.post_mail(&token, &stranger));
    assert_eq!(result, "created");
    assert_ne!(
        other,
        Some(first),
        "a guessed number does not reach another customer's conversation"
    );

    // Quoted history is trimmed for display and kept behind "Show quoted text".
    let gmail = fixture_text("gmail_reply.eml").replace("<reply-1-abc@confer.test>", &ours);
    assert_eq!(
        outcome(&mta.post_mail(&token, gmail.as_bytes())),
        ("appended".into(), Some(first))
    );
    let page = alan.get(&format!("/conversations/{first}"));
    assert!(page.body.contains("Thanks, that fixed it!"));
    assert!(page.body.contains("<summary>Show quoted text</summary>"));
    assert!(
        page.body.contains("&#62; Have you tried turning it off?"),
        "quoted text is escaped plain text: {}",
        &page.body[page.body.find("<summary>").unwrap_or(0)..][..400]
    );
    assert_eq!(
        app.count(&format!(
            "messages WHERE conversation_id = {first} AND kind = 'customer'"
        )),
        5
    );

    // Machine-sent mail never opens conversations and is never answered.
    let before = app.count("conversations");
    for file in [
        "auto_reply.eml",
        "precedence_bulk.eml",
        "bounce.eml",
        "x_autoreply.eml",
    ] {
        let (result, _) = outcome(&mta.post_mail(&token, &fixture(file)));
        assert_eq!(result, "ignored", "{file}");
    }
    assert_eq!(app.count("conversations"), before);
    assert_eq!(app.count("outbox WHERE kind = 'bounce'"), 0);
    assert_eq!(
        app.count("inbound_mail WHERE outcome = 'ignored' AND detail LIKE 'automatic mail%'"),
        4
    );

    // The owner sees what became of every mail in Settings > Email.
    let mut owner = app.sign_in("owner@acme.test");
    let log = owner.get("/settings/email");
    assert_eq!(log.status, 200);
    assert!(
        log.body.contains("Added to conversation")
            && log.body.contains("threaded by In-Reply-To/References")
    );
    assert!(
        log.body
            .contains("automatic mail (Auto-Submitted: auto-replied)")
    );
});

db_test!(mail_from_one_sender_is_rate_limited, |app| {
    let app = app.with_org();
    let (_, token) = email_workspace(&app);
    let mut mta = app.client();
    for n in 0..confer::inbound::PER_SENDER_PER_HOUR {
        let mail = customer_mail(
            "loop@customer.test",
            &format!("Ticket {n}"),
            &format!("<l{n}@customer.test>"),
            "",
            "again",
        );
        assert_eq!(outcome(&mta.post_mail(&token, &mail)).0, "created");
    }
    let mail = customer_mail(
        "loop@customer.test",
        "One more",
        "<l-last@customer.test>",
        "",
        "again",
    );
    assert_eq!(outcome(&mta.post_mail(&token, &mail)).0, "ignored");
    assert_eq!(
        app.count("conversations"),
        confer::inbound::PER_SENDER_PER_HOUR
    );
    app.clock.advance(chrono::TimeDelta::minutes(61));
    let mail = customer_mail(
        "loop@customer.test",
        "Next hour",
        "<l-next@customer.test>",
        "",
        "again",
    );
    assert_eq!(outcome(&mta.post_mail(&token, &mail)).0, "created");
});

db_test!(the_inbound_endpoint_wants_the_current_token, |app| {
    let app = app.with_org();
    let mut mta = app.client();
    let off = mta.post_mail("anything", &fixture("plain.eml"));
    assert_eq!(off.status, 401);
    assert!(off.body.contains("\"inbound_disabled\""), "{}", off.body);

    // The owner creates a token in Settings > Email: shown once, stored hashed.
    let mut owner = app.sign_in("owner@acme.test");
    assert!(
        owner
            .get("/settings/email")
            .body
            .contains("Incoming mail is off")
    );
    let created = owner.post_form("/settings/email/token", &[]);
    assert_eq!(created.status, 200);
    let marker = "data-testid=\"inbound-token\">";
    let start = created.body.find(marker).expect("token shown") + marker.len();
    let token =
        created.body[start..start + created.body[start..].find('<').expect("end")].to_string();
    assert!(
        !owner.get("/settings/email").body.contains(&token),
        "shown only once"
    );
    assert_eq!(
        app.count(&format!(
            "org_settings WHERE inbound_token_hash = '{}'",
            confer::handlers::inbound_token_hash(&token)
        )),
        1
    );
    assert_eq!(
        app.count("audit_log WHERE action = 'inbound_token.created'"),
        1
    );

    assert_eq!(mta.post_mail("wrong", &fixture("plain.eml")).status, 401);
    assert_eq!(app.count("conversations"), 0);
    let garbage = mta.post_mail(&token, b"this is not an email at all");
    assert_eq!(garbage.status, 422, "{}", garbage.body);
    assert!(garbage.body.contains("\"not_a_message\""));
    assert_eq!(
        outcome(&mta.post_mail(&token, &fixture("plain.eml"))).0,
        "created"
    );

    // Replacing the token retires the old one; removing it closes the door.
    owner.post_form("/settings/email/token", &[]).expect_done();
    assert_eq!(mta.post_mail(&token, &fixture("latin1.eml")).status, 401);
    assert_eq!(
        owner.post_form("/settings/email/token/delete", &[]).status,
        303
    );
    assert!(
        owner
            .get("/settings/email?notice=removed")
            .body
            .contains("Incoming mail is off.")
    );
    assert_eq!(
        app.count("org_settings WHERE inbound_token_hash IS NULL"),
        1
    );
});

db_test!(a_spam_senders_mail_goes_to_spam_until_unblocked, |app| {
    let app = app.with_org();
    let (_, token) = email_workspace(&app);
    let mut mta = app.client();
    let (_, first) = outcome(&mta.post_mail(&token, &fixture("plain.eml")));
    let first = first.expect("conversation");
    let alan = app.user_id("agent@acme.test");
    app.sql(&format!(
        "UPDATE conversations SET assignee_id = {alan} WHERE id = {first}"
    ));
    let carla = app.count("customers WHERE email = 'carla@customer.test'");
    assert_eq!(carla, 1);
    let mut agent = app.sign_in("agent@acme.test");
    agent
        .post_form(&format!("/conversations/{first}/move"), &[("to", "spam")])
        .expect_location(&format!("/conversations/{first}?notice=spam"));
    assert_eq!(
        app.count("customers WHERE email = 'carla@customer.test' AND blocked_at IS NOT NULL"),
        1
    );
    assert_eq!(app.count("audit_log WHERE action = 'customer.blocked'"), 1);
    let page = agent.get(&format!("/conversations/{first}"));
    assert!(page.body.contains("Marked as spam on"), "{}", page.body);
    assert!(page.body.contains("value=\"inbox\">Not spam<"));

    // Her answer threads in, but the conversation stays in Spam and its
    // assignee hears nothing; a new mail opens a conversation in Spam.
    let answer = customer_mail(
        "carla@customer.test",
        "Re: Printer on fire",
        "<spam-2@customer.test>",
        "<plain-1@customer.test>",
        "Buy cheap toner!",
    );
    assert_eq!(
        outcome(&mta.post_mail(&token, &answer)),
        ("appended".into(), Some(first))
    );
    let fresh = customer_mail(
        "carla@customer.test",
        "Amazing offer",
        "<spam-3@customer.test>",
        "",
        "Click here.",
    );
    let (result, second) = outcome(&mta.post_mail(&token, &fresh));
    assert_eq!(result, "created");
    let second = second.expect("conversation");
    // The contact form too.
    app.client()
        .post_form(
            "/contact",
            &[
                ("name", "Carla"),
                ("email", "carla@customer.test"),
                ("subject", "Free prizes"),
                ("message", "Claim now"),
                ("website", ""),
            ],
        )
        .expect_done();
    assert_eq!(
        app.count("conversations WHERE subject = 'Free prizes' AND folder = 'spam'"),
        1
    );
    app.sql("DELETE FROM conversations WHERE subject = 'Free prizes'");
    assert_eq!(app.count("conversations WHERE folder = 'spam'"), 2);
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {first} AND status = 'open'"
        )),
        1
    );
    assert_eq!(app.count("notifications"), 0, "nobody was told");
    let spam = agent.get("/conversations?view=spam");
    assert!(spam.body.contains("Amazing offer") && spam.body.contains("Printer on fire"));
    assert!(spam.body.contains("data-view=\"spam\">2<"));
    assert!(
        !agent
            .get("/conversations?view=teams")
            .body
            .contains("Amazing offer")
    );

    // Unblocked from her page: the next mail comes in as usual, while what
    // is in Spam stays there until someone says "Not spam".
    let carla_id = {
        use confer::db::schema::customers;
        use diesel::prelude::*;
        customers::table
            .filter(customers::email.eq("carla@customer.test"))
            .select(customers::id)
            .first::<i64>(&mut app.conn())
            .expect("carla")
    };
    let profile = agent.get(&format!("/customers/{carla_id}"));
    assert!(profile.body.contains("Blocked since"), "{}", profile.body);
    agent
        .post_form(&format!("/customers/{carla_id}/unblock"), &[])
        .expect_location(&format!("/customers/{carla_id}?notice=unblocked"));
    assert_eq!(app.count("customers WHERE blocked_at IS NOT NULL"), 0);
    assert_eq!(
        app.count("audit_log WHERE action = 'customer.unblocked'"),
        1
    );
    assert!(
        agent
            .get(&format!("/customers/{carla_id}?notice=unblocked"))
            .body
            .contains("comes in as usual again")
    );
    let later = customer_mail(
        "carla@customer.test",
        "Real question",
        "<real-4@customer.test>",
        "",
        "Where is my order?",
    );
    let (_, third) = outcome(&mta.post_mail(&token, &later));
    let third = third.expect("conversation");
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {third} AND folder IS NULL"
        )),
        1
    );
    assert_eq!(app.count("conversations WHERE folder = 'spam'"), 2);
    agent
        .post_form(
            "/conversations/bulk",
            &[
                ("ids", &second.to_string()),
                ("action", "inbox"),
                ("view", "spam"),
            ],
        )
        .expect_location("/conversations?view=spam");
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {second} AND folder IS NULL"
        )),
        1
    );
    // Marking as spam again, then "Not spam", unblocks her too.
    agent
        .post_form(&format!("/conversations/{first}/move"), &[("to", "inbox")])
        .expect_location(&format!("/conversations/{first}?notice=restored"));
    assert_eq!(app.count("customers WHERE blocked_at IS NOT NULL"), 0);
    agent
        .post_form(&format!("/conversations/{third}/move"), &[("to", "spam")])
        .expect_done();
    assert_eq!(app.count("customers WHERE blocked_at IS NOT NULL"), 1);
    agent
        .post_form(&format!("/conversations/{third}/move"), &[("to", "inbox")])
        .expect_done();
    assert_eq!(app.count("customers WHERE blocked_at IS NOT NULL"), 0);
});
