//! Replies to notifications become private notes; forged or refused ones are bounced and logged.

use super::*;

db_test!(replying_to_a_notification_adds_a_private_note, |app| {
    let app = app.with_org();
    let (support, token) = email_workspace(&app);
    let carla = app.customer("Carla Customer", "carla@customer.test");
    let id = app.conversation("Printer on fire", carla, Some(support), None, "open");
    let mut owner = app.sign_in("owner@acme.test");
    owner
        .post_form(
            &format!("/conversations/{id}/notes"),
            &[("body", "@Alan Agent @Cora Collaborator please look")],
        )
        .expect_done();
    let mut mta = app.client();
    for (email, name) in [
        ("agent@acme.test", "Alan Agent"),
        ("collab@acme.test", "Cora Collaborator"),
    ] {
        let address = reply_address_of(&app, email);
        assert!(address.starts_with("confer+note-"), "{address}");
        let mail = team_reply(&format!("\"{name}\" <{email}>"), &address);
        assert_eq!(
            outcome(&mta.post_mail(&token, &mail)),
            ("noted".into(), Some(id)),
            "{email}"
        );
        let user = app.user_id(email);
        assert_eq!(
            app.count(&format!("messages WHERE conversation_id = {id} AND kind = 'note' AND author_user_id = {user} AND source = 'email' AND body LIKE 'Checked the logs%'")),
            1,
            "a private note by {email}"
        );
    }
    // Never a reply: nothing went to the customer.
    assert_eq!(app.count("messages WHERE kind = 'reply'"), 0);
    assert_eq!(
        app.count("outbox WHERE recipient = 'carla@customer.test'"),
        0
    );
    let page = owner.get(&format!("/conversations/{id}"));
    assert!(
        page.body.contains("Checked the logs: it’s the fuser.")
            || page.body.contains("Checked the logs: it&#x27;s the fuser.")
            || page.body.contains("Checked the logs: it&#39;s the fuser."),
        "{}",
        page.body
    );
    // The envelope recipient counts too (an MTA that rewrites To:).
    let address = reply_address_of(&app, "agent@acme.test");
    let mut mail =
        String::from_utf8(team_reply("agent@acme.test", "support@confer.test")).expect("utf8");
    mail = mail.replace("Checked the logs", "Envelope only");
    let response = {
        let agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .new_agent();
        let mut r = agent
            .post(format!(
                "{}/inbound/email?recipient={}",
                app.base_url,
                address.replace('+', "%2B")
            ))
            .header("Authorization", format!("Bearer {token}"))
            .send(mail.as_bytes())
            .expect("post");
        (
            r.status().as_u16(),
            r.body_mut().read_to_string().expect("body"),
        )
    };
    assert_eq!(response.0, 200);
    assert!(response.1.contains("\"noted\""), "{}", response.1);
});

db_test!(forged_or_refused_replies_are_bounced_and_logged, |app| {
    let app = app.with_org();
    let (support, token) = email_workspace(&app);
    let billing = app.team("Billing");
    let carla = app.customer("Carla Customer", "carla@customer.test");
    let id = app.conversation("Printer on fire", carla, Some(support), None, "open");
    let mut owner = app.sign_in("owner@acme.test");
    owner
        .post_form(
            &format!("/conversations/{id}/notes"),
            &[("body", "@Alan Agent @Cora Collaborator")],
        )
        .expect_done();
    let alan = reply_address_of(&app, "agent@acme.test");
    let cora = reply_address_of(&app, "collab@acme.test");
    let mut mta = app.client();
    let mut refuse = |from: &str, to: &str, reason: &str| {
        let (result, conversation) = outcome(&mta.post_mail(&token, &team_reply(from, to)));
        assert_eq!(
            (result.as_str(), conversation),
            ("rejected", None),
            "{reason}"
        );
        assert_eq!(
            app.count(&format!("inbound_mail WHERE outcome = 'rejected' AND detail = 'reply by email refused: {reason}'")),
            1,
            "{reason} is logged"
        );
    };
    // A signature changed by one character.
    let last = alan.rfind('@').expect("@") - 1;
    let flipped = if &alan[last..=last] == "0" { "1" } else { "0" };
    let forged = format!("{}{flipped}{}", &alan[..last], &alan[last + 1..]);
    refuse("agent@acme.test", &forged, "forged");
    // Someone else's address, sent from another account.
    refuse("collab@acme.test", &alan, "wrong_sender");
    // No signature at all.
    refuse("agent@acme.test", "confer+note-1-1@localhost", "malformed");
    // The conversation moved to a team Alan is not in.
    app.sql(&format!(
        "UPDATE conversations SET team_id = {billing} WHERE id = {id}"
    ));
    refuse("agent@acme.test", &alan, "not_visible");
    app.sql(&format!(
        "UPDATE conversations SET team_id = {support} WHERE id = {id}"
    ));
    // Cora was deactivated.
    app.sql("UPDATE users SET active = FALSE WHERE email = 'collab@acme.test'");
    refuse("collab@acme.test", &cora, "inactive");
    // Three months later the address has expired.
    app.clock.advance(chrono::TimeDelta::days(91));
    refuse("agent@acme.test", &alan, "expired");

    assert_eq!(
        app.count("messages WHERE source = 'email'"),
        0,
        "no note was added"
    );
    // Each refusal was answered with the reason, at most five an hour per address.
    assert_eq!(
        app.count("outbox WHERE kind = 'bounce' AND recipient = 'agent@acme.test'"),
        4
    );
    assert_eq!(
        app.count("outbox WHERE kind = 'bounce' AND recipient = 'collab@acme.test'"),
        2
    );
    let sink = SmtpSink::start();
    app.run_jobs(Some(sink.port));
    let bounces = sink.wait_for(6);
    assert!(bounces.iter().any(|m| {
        m.body()
            .contains("You can no longer see this conversation.")
    }));
    assert!(
        bounces
            .iter()
            .any(|m| m.body().contains("Your Confer account is not active."))
    );
    // An auto-reply to the reply address is ignored, never bounced.
    let auto = String::from_utf8(team_reply("agent@acme.test", &forged))
        .expect("utf8")
        .replace("Subject:", "Auto-Submitted: auto-replied\r\nSubject:");
    assert_eq!(
        outcome(&mta.post_mail(&token, auto.as_bytes())).0,
        "ignored"
    );
    assert_eq!(app.count("outbox WHERE kind = 'bounce'"), 6);
});
