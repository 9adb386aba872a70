//! The email channel: the `.eml` corpus in tests/fixtures/mail (each with its
//! expected result in expected.json), malformed mail fed to the parser,
//! threading by each rule, reply-by-email notes and their refusals,
//! attachments and their visibility, the outbox through a real SMTP server,
//! two worker processes, and `confer mailgate` as a real subprocess.

use confer::mail::parse::{self, InboundMail};
use confer::mail::reply_address::{Refusal, ReplySigner};
use confer::models::attachment;
use serde_json::Value;

use crate::db_test;
use crate::smtp::SmtpSink;
use crate::support::*;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mail");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("ASCII/UTF-8 fixture")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn every_fixture_parses_to_its_expected_result() {
    let expected: Vec<Value> =
        serde_json::from_slice(&fixture("expected.json")).expect("expected.json");
    assert!(expected.len() >= 19, "the whole corpus is checked");
    for case in &expected {
        let file = case["file"].as_str().expect("file");
        let mail: InboundMail =
            parse::parse(&fixture(file)).unwrap_or_else(|| panic!("{file} did not parse"));
        assert_eq!(
            mail.from_email.as_deref(),
            case["from"].as_str(),
            "{file}: sender"
        );
        assert_eq!(
            mail.subject,
            case["subject"].as_str().expect("subject"),
            "{file}: subject"
        );
        assert_eq!(
            mail.message_id.as_deref(),
            case["message_id"].as_str(),
            "{file}: Message-ID"
        );
        assert_eq!(
            mail.thread_ids,
            strings(&case["thread_ids"]),
            "{file}: thread ids"
        );
        assert_eq!(
            mail.automated.is_some(),
            case["automated"].as_bool().expect("automated"),
            "{file}: automated ({:?})",
            mail.automated
        );
        for text in strings(&case["body_contains"]) {
            assert!(
                mail.body.contains(&text),
                "{file}: body lacks {text:?}:\n{}",
                mail.body
            );
        }
        for text in strings(&case["body_excludes"]) {
            assert!(
                !mail.body.contains(&text),
                "{file}: body has {text:?}:\n{}",
                mail.body
            );
        }
        let quoted = mail.quoted.clone().unwrap_or_default();
        for text in strings(&case["quoted_contains"]) {
            assert!(
                quoted.contains(&text),
                "{file}: quoted part lacks {text:?}:\n{quoted}"
            );
        }
        if strings(&case["quoted_contains"]).is_empty() {
            assert!(
                mail.quoted.is_none(),
                "{file}: nothing is quoted, got {quoted:?}"
            );
        }
        let files: Vec<(String, String, bool)> = mail
            .files
            .iter()
            .map(|f| {
                (
                    f.filename.clone(),
                    attachment::sniff(&f.data, &f.declared_type),
                    f.inline,
                )
            })
            .collect();
        let wanted: Vec<(String, String, bool)> = case["attachments"]
            .as_array()
            .expect("attachments")
            .iter()
            .map(|a| {
                (
                    a["name"].as_str().expect("name").to_string(),
                    a["content_type"].as_str().expect("type").to_string(),
                    a["inline"].as_bool().unwrap_or(false),
                )
            })
            .collect();
        assert_eq!(files, wanted, "{file}: attachments");
    }
}

/// A small deterministic generator, so a failure can be replayed.
struct XorShift(u64);

impl XorShift {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }

    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Malformed mail (flipped bytes, cuts, stray headers and boundaries,
/// random bytes) never panics the parser, and what it returns is sane.
#[test]
fn malformed_mail_never_panics_the_parser() {
    let mut rng = XorShift(0x5eed_cafe_f00d_d00d);
    let mut corpus: Vec<Vec<u8>> = std::fs::read_dir(FIXTURES)
        .expect("fixtures")
        .filter_map(|e| e.ok())
        .filter(|e| e.path().extension().is_some_and(|x| x == "eml"))
        .map(|e| std::fs::read(e.path()).expect("read"))
        .collect();
    corpus.push(Vec::new());
    let inserts: [&[u8]; 6] = [
        b"\r\nContent-Type: multipart/mixed; boundary=\"x\"\r\n",
        b"\r\n--x\r\n",
        b"=?UTF-8?B?////?=",
        b"=\r\n=ZZ=",
        b"\r\nContent-Transfer-Encoding: base64\r\n\r\n@@@@",
        b"\xff\xfe\x00",
    ];
    let mut parsed = 0;
    for round in 0..4000 {
        let mut mail = corpus[round % corpus.len()].clone();
        match rng.below(4) {
            0 => {
                for _ in 0..=rng.below(20) {
                    if !mail.is_empty() {
                        let at = rng.below(mail.len());
                        mail[at] = rng.next() as u8;
                    }
                }
            }
            1 => {
                let cut = rng.below(mail.len() + 1);
                mail.truncate(cut);
            }
            2 => {
                let at = rng.below(mail.len() + 1);
                let insert = inserts[rng.below(inserts.len())];
                mail.splice(at..at, insert.iter().copied());
            }
            _ => {
                mail = (0..rng.below(2048)).map(|_| rng.next() as u8).collect();
            }
        }
        if let Some(result) = parse::parse(&mail) {
            parsed += 1;
            assert!(result.from_email.as_deref().is_none_or(|e| e.contains('@')));
            for file in &result.files {
                assert!(file.data.len() <= attachment::MAX_BYTES);
                let name = attachment::clean_filename(&file.filename);
                assert!(!name.contains('/') && !name.is_empty());
            }
        }
    }
    assert!(parsed > 1000, "most mutations still parse ({parsed})");
}

#[test]
fn reply_addresses_are_signed_and_checked() {
    let signer = ReplySigner::new(
        b"a-secret-key-of-enough-length-0123456789",
        "Acme <help@acme.test>",
    );
    let today = chrono::NaiveDate::from_ymd_opt(2026, 11, 22).expect("date");
    let address = signer.address(7, 42, today);
    assert!(address.starts_with("help+note-7-42-") && address.ends_with("@acme.test"));
    let token = ReplySigner::find_token(&[address.to_uppercase()]).expect("token");
    assert_eq!(signer.verify(&token, today), Ok((7, 42)));
    // Another conversation or user with the same signature is a forgery.
    let forged = token.replacen("-42-", "-43-", 1);
    assert_eq!(signer.verify(&forged, today), Err(Refusal::BadSignature));
    let forged = token.replacen("note-7-", "note-8-", 1);
    assert_eq!(signer.verify(&forged, today), Err(Refusal::BadSignature));
    // Another server's key does not sign for this one.
    let other = ReplySigner::new(b"another-secret-key-of-enough-length-000", "help@acme.test");
    assert_eq!(other.verify(&token, today), Err(Refusal::BadSignature));
    assert_eq!(
        signer.verify(&token, today + chrono::TimeDelta::days(91)),
        Err(Refusal::Expired)
    );
    assert_eq!(signer.verify("note-7-42", today), Err(Refusal::Malformed));
    assert_eq!(
        signer.verify("note-x-y-z-00", today),
        Err(Refusal::Malformed)
    );
    assert!(
        ReplySigner::find_token(&["help@acme.test".into(), "help+sales@acme.test".into()])
            .is_none()
    );
}

/// An organization for customer.test, the Support team with Alan (agent)
/// and Cora (collaborator), and the inbound token.
fn email_workspace(app: &TestApp) -> (i64, String) {
    let support = app.team("Support");
    app.user("agent@acme.test", "Alan Agent")
        .in_team(support)
        .teams_only()
        .create();
    app.user("collab@acme.test", "Cora Collaborator")
        .collaborator()
        .in_team(support)
        .teams_only()
        .create();
    app.sql(&format!(
        "INSERT INTO organizations (name, domains, created_at) VALUES ('Customer Inc', 'customer.test', '2026-01-01 00:00:00');
         UPDATE org_settings SET intake_team_id = {support};"
    ));
    (support, app.inbound_token())
}

fn outcome(response: &Response) -> (String, Option<i64>) {
    assert_eq!(response.status, 200, "{}", response.body);
    let json: Value = serde_json::from_str(&response.body).expect("json");
    (
        json["outcome"].as_str().expect("outcome").to_string(),
        json["conversation_id"].as_i64(),
    )
}

/// A customer mail with these threading headers.
fn customer_mail(from: &str, subject: &str, id: &str, in_reply_to: &str, body: &str) -> Vec<u8> {
    let mut mail = format!(
        "From: {from}\r\nTo: support@confer.test\r\nSubject: {subject}\r\nMessage-ID: {id}\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n"
    );
    if !in_reply_to.is_empty() {
        mail.push_str(&format!(
            "In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n"
        ));
    }
    mail.push_str(&format!(
        "Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ));
    mail.into_bytes()
}

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

/// The Reply-To of the latest notification email to `email`.
fn reply_address_of(app: &TestApp, email: &str) -> String {
    use confer::db::schema::outbox;
    use diesel::prelude::*;
    outbox::table
        .filter(outbox::kind.eq("notification"))
        .filter(outbox::recipient.eq(email))
        .order(outbox::id.desc())
        .select(outbox::reply_to.assume_not_null())
        .first::<String>(&mut app.conn())
        .expect("a notification with a Reply-To")
}

fn team_reply(from: &str, to: &str) -> Vec<u8> {
    fixture_text("team_reply.eml")
        .replace("\"Sam Agent\" <sam@confer.test>", from)
        .replace("support+NOTE_TOKEN@confer.test", to)
        .replace(
            "<team-1@confer.test>",
            &format!("<team-{}@confer.test>", rand::random::<u32>()),
        )
        .into_bytes()
}

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

db_test!(attachments_are_stored_sniffed_and_guarded, |app| {
    let app = app.with_org();
    let (_, token) = email_workspace(&app);
    app.user("billing@acme.test", "Bill Billing")
        .in_team(app.team("Billing"))
        .teams_only()
        .create();
    let mut mta = app.client();
    let (_, id) = outcome(&mta.post_mail(&token, &fixture("attachments.eml")));
    let id = id.expect("conversation");
    let (_, logo_conversation) = outcome(&mta.post_mail(&token, &fixture("inline_image.eml")));
    let logo_conversation = logo_conversation.expect("conversation");
    assert_eq!(app.count("attachments"), 4);
    assert_eq!(app.count("attachments WHERE filename = 'evil.png' AND content_type = 'application/octet-stream' AND NOT inline"), 1);
    assert_eq!(
        app.count(
            "attachments WHERE filename = 'logo.png' AND content_type = 'image/png' AND inline"
        ),
        1
    );
    let attachment_id = |name: &str| {
        use confer::db::schema::attachments;
        use diesel::prelude::*;
        attachments::table
            .filter(attachments::filename.eq(name))
            .select(attachments::id)
            .first::<i64>(&mut app.conn())
            .expect("attachment")
    };
    let pdf = attachment_id("report.pdf");

    let mut alan = app.sign_in("agent@acme.test");
    let download = alan.get(&format!("/attachments/{pdf}"));
    assert_eq!(download.status, 200);
    assert_eq!(download.header("content-type"), Some("application/pdf"));
    assert!(
        download
            .header("content-disposition")
            .expect("disposition")
            .starts_with("attachment; filename=\"report.pdf\"")
    );
    assert!(
        download.body.starts_with("%PDF-"),
        "{:?}",
        &download.body[..download.body.len().min(80)]
    );
    let evil = alan.get(&format!("/attachments/{}", attachment_id("evil.png")));
    assert_eq!(
        evil.header("content-type"),
        Some("application/octet-stream")
    );
    assert!(
        evil.header("content-security-policy")
            .expect("csp")
            .contains("sandbox")
    );
    // The conversation page lists the files; only real images show as images.
    let page = alan.get(&format!("/conversations/{logo_conversation}"));
    let logo = attachment_id("logo.png");
    assert!(page.body.contains(&format!(
        "<img src=\"/attachments/{logo}\" alt=\"logo.png\""
    )));
    assert!(!page.body.contains(&format!(
        "<img src=\"/attachments/{}\"",
        attachment_id("evil.png")
    )));
    assert!(page.body.contains("Our logo looks wrong"));
    assert!(!page.body.contains("alert(1)"));
    assert!(
        alan.get(&format!("/conversations/{id}"))
            .body
            .contains(">report.pdf</a>")
    );

    // The collaborator of the team may download; another team may not, and
    // neither may anyone signed out.
    assert_eq!(
        app.sign_in("collab@acme.test")
            .get(&format!("/attachments/{pdf}"))
            .status,
        200
    );
    assert_eq!(
        app.sign_in("billing@acme.test")
            .get(&format!("/attachments/{pdf}"))
            .status,
        404
    );
    app.client()
        .get(&format!("/attachments/{pdf}"))
        .expect_redirect("/login");
    assert_eq!(alan.get("/attachments/999999").status, 404);
});

db_test!(replies_and_notes_carry_uploaded_files, |app| {
    let app = app.with_org();
    let (support, _) = email_workspace(&app);
    let carla = app.customer("Carla Customer", "carla@customer.test");
    let id = app.conversation("Printer on fire", carla, Some(support), None, "open");
    let mut alan = app.sign_in("agent@acme.test");
    let sent = alan.post_multipart(
        &format!("/conversations/{id}/reply"),
        &[("body", "The manual is attached.")],
        &[
            ("files", "manual.pdf", b"%PDF-1.4\nfake manual\n"),
            ("files", "", b""),
        ],
    );
    sent.expect_redirect("/conversations/*");
    assert_eq!(
        app.count("attachments WHERE filename = 'manual.pdf' AND content_type = 'application/pdf'"),
        1
    );
    assert_eq!(app.count("outbox_attachments"), 1);
    let mut cora = app.sign_in("collab@acme.test");
    let noted = cora.post_multipart(
        &format!("/conversations/{id}/notes"),
        &[("body", "Screenshot of the error")],
        &[("files", "error.txt", b"E42 fuser overheated")],
    );
    noted.expect_redirect("/conversations/*");
    assert_eq!(app.count("attachments"), 2);
    assert_eq!(
        app.count("outbox_attachments"),
        1,
        "a note's file never leaves"
    );

    let sink = SmtpSink::start();
    app.run_jobs(Some(sink.port));
    let mail = sink
        .wait_for(1)
        .into_iter()
        .find(|m| m.to == ["carla@customer.test"])
        .expect("the reply");
    assert!(mail.data.contains("multipart/mixed"));
    assert!(
        mail.data.contains("filename=\"manual.pdf\""),
        "{}",
        mail.data
    );
    assert!(!mail.data.contains("error.txt"));

    // Too large: the error names the file and the text typed is kept.
    let big = vec![b'a'; attachment::MAX_BYTES + 1];
    let refused = alan.post_multipart(
        &format!("/conversations/{id}/reply"),
        &[("body", "Here is the full dump")],
        &[("files", "dump.log", &big)],
    );
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("dump.log is larger than 10 MB"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(">Here is the full dump</textarea>"));
    assert_eq!(app.count("messages WHERE kind = 'reply'"), 1);
});

db_test!(a_permanent_refusal_shows_on_the_conversation, |app| {
    let app = app.with_org();
    let (support, _) = email_workspace(&app);
    let gone = app.customer("Gone Customer", "gone@customer.test");
    let id = app.conversation("Where are you", gone, Some(support), None, "open");
    let sink = SmtpSink::start();
    sink.refuse("gone@customer.test");
    let mut alan = app.sign_in("agent@acme.test");
    alan.post_form(&format!("/conversations/{id}/reply"), &[("body", "Hello?")])
        .expect_done();
    let round = app.run_jobs(Some(sink.port));
    assert_eq!((round.sent, round.failed), (0, 1));
    assert_eq!(
        app.count("outbox WHERE status = 'failed' AND attempts = 1 AND last_error LIKE '%550%'"),
        1
    );
    let page = alan.get(&format!("/conversations/{id}"));
    assert!(
        page.body.contains("Could not be delivered:") && page.body.contains("mailbox unavailable"),
        "{}",
        page.body
    );
    // Given up for good: later rounds do not try again.
    app.clock.advance(chrono::TimeDelta::hours(2));
    assert_eq!(app.run_jobs(Some(sink.port)).failed, 0);
    assert!(sink.messages().is_empty());
});

db_test!(two_worker_processes_deliver_each_mail_once, |app| {
    let app = app.with_org();
    const MAILS: usize = 500;
    {
        let mut conn = app.conn();
        let now = app.clock.now();
        confer::db::write_transaction(&mut conn, |conn| {
            for n in 0..MAILS {
                confer::models::outbox::enqueue(
                    conn,
                    &confer::models::outbox::Mail {
                        kind: "notification",
                        recipient: &format!("user{n}@acme.test"),
                        subject: &format!("Mail {n}"),
                        body_text: "Hello",
                        ..Default::default()
                    },
                    now,
                )?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .expect("queue");
    }
    let sink = SmtpSink::start();
    let database_url = match &app.state.config.database_url {
        confer::db::DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
        confer::db::DatabaseUrl::Postgres(url) => url.clone(),
    };
    let workers: Vec<std::process::Child> = (0..2)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_confer"))
                .args(["worker", "--until-idle", "--every", "1"])
                .env("DATABASE_URL", &database_url)
                .env("CONFER_DATA_DIR", std::env::temp_dir().join("confer-tests"))
                .env(
                    "CONFER_SECRET_KEY",
                    "worker-test-secret-key-0123456789abcdef",
                )
                .env("CONFER_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port))
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("start worker")
        })
        .collect();
    for mut worker in workers {
        let status = worker.wait().expect("worker");
        assert!(status.success(), "worker failed: {status}");
    }
    let received = sink.wait_for(MAILS);
    let mut recipients: Vec<String> = received.iter().flat_map(|m| m.to.clone()).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(received.len(), MAILS, "nothing sent twice");
    assert_eq!(recipients.len(), MAILS, "nothing left out");
    assert_eq!(
        app.count("outbox WHERE status = 'sent' AND attempts = 1"),
        MAILS as i64
    );
});

db_test!(
    mailgate_pipes_mail_in_with_exit_codes_an_mta_understands,
    |app| {
        let app = app.with_org();
        let (_, token) = email_workspace(&app);
        let mailgate = |url: &str, token: &str, mail: &[u8], extra: &[&str]| {
            use std::io::Write;
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_confer"))
                .arg("mailgate")
                .args(["--url", url, "--timeout", "10"])
                .args(extra)
                .env("CONFER_INBOUND_TOKEN", token)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start mailgate");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(mail)
                .expect("write");
            let output = child.wait_with_output().expect("mailgate");
            (
                output.status.code().expect("exit code"),
                String::from_utf8_lossy(&output.stdout).into_owned(),
            )
        };
        let url = format!("{}/inbound/email", app.base_url);
        let (code, out) = mailgate(&url, &token, &fixture("iso2022jp.eml"), &[]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("\"created\""));
        assert_eq!(app.count("conversations WHERE subject = '配送について'"), 1);
        // A wrong token or a server that is down: try again later (75).
        assert_eq!(mailgate(&url, "wrong", &fixture("plain.eml"), &[]).0, 75);
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let dead = format!(
            "http://{}/inbound/email",
            closed.local_addr().expect("addr")
        );
        drop(closed);
        assert_eq!(mailgate(&dead, &token, &fixture("plain.eml"), &[]).0, 75);
        // Not a mail: refused for good (65), so the MTA bounces it.
        assert_eq!(mailgate(&url, &token, b"garbage", &[]).0, 65);
        // The envelope recipient given by the MTA carries a reply address.
        let carla = app.customer("Carla Customer", "carla@customer.test");
        let id = app.conversation("Printer on fire", carla, None, None, "open");
        let signer = ReplySigner::from_config(&app.state.config);
        let address = signer.address(app.user_id("owner@acme.test"), id, app.clock.now().date());
        let mail = team_reply("owner@acme.test", "support@confer.test");
        let (code, out) = mailgate(&url, &token, &mail, &["--recipient", &address]);
        assert_eq!(code, 0);
        assert!(out.contains("\"noted\""), "{out}");
        assert_eq!(
            app.count(&format!(
                "messages WHERE conversation_id = {id} AND kind = 'note'"
            )),
            1
        );
    }
);
