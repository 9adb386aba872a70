//! Grants: a collaborator is given one conversation, or every conversation
//! of a customer, until a day; they see exactly that (page, lists, search,
//! counts, explainer) and lose it when it is revoked or expires.

use chrono::Duration;

use crate::db_test;
use crate::support::conversation_ids;

db_test!(
    a_grant_opens_one_conversation_or_a_customer_until_it_ends,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let billing = app.team("Billing");
        let dana = app
            .user("dana@partner.test", "Dana Expert")
            .collaborator()
            .teams_only()
            .create();
        let carl = app.customer("Carl Customer", "carl@customer.test");
        let other = app.customer("Olga Other", "olga@customer.test");
        let dispute = app.conversation("Invoice dispute", carl, Some(billing), None, "open");
        let second = app.conversation("Second question", carl, None, None, "open");
        let elsewhere = app.conversation("Other invoice", other, Some(billing), None, "open");
        let _ = support;

        let mut dana_client = app.sign_in("dana@partner.test");
        for id in [dispute, second, elsewhere] {
            assert_eq!(
                dana_client.status_only(&format!("/conversations/{id}")),
                404
            );
        }

        // An agent may not grant; a manager may.
        let mut agent = app.sign_in("agent@acme.test");
        let refused = agent.post_form(
            &format!("/conversations/{dispute}/grants"),
            &[("user_id", &dana.to_string()), ("reach", "conversation")],
        );
        assert_eq!(refused.status, 403);
        assert_eq!(
            agent.status_only(&format!("/conversations/{dispute}/audience")),
            403
        );

        let mut manager = app.sign_in("manager@acme.test");
        let today = app.clock.now().date();
        let too_far = (today + Duration::days(91)).to_string();
        let bad = manager.post_form(
            &format!("/conversations/{dispute}/grants"),
            &[
                ("user_id", "999"),
                ("reach", "conversation"),
                ("until", &too_far),
            ],
        );
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("Choose an active collaborator."));
        assert!(
            bad.body
                .contains("Choose a day from today to 90 days from now.")
        );
        assert!(
            bad.body.contains(&format!("value=\"{too_far}\"")),
            "input kept"
        );
        let not_a_date = manager.post_form(
            &format!("/conversations/{dispute}/grants"),
            &[
                ("user_id", &dana.to_string()),
                ("reach", "conversation"),
                ("until", "soon"),
            ],
        );
        assert_eq!(not_a_date.status, 422);
        let agent_id = app.user_id("agent@acme.test").to_string();
        let not_collaborator = manager.post_form(
            &format!("/conversations/{dispute}/grants"),
            &[("user_id", &agent_id), ("reach", "conversation")],
        );
        assert_eq!(not_collaborator.status, 422);
        assert_eq!(app.count("access_grants"), 0, "refusals write nothing");

        let until = (today + Duration::days(10)).to_string();
        manager
            .post_form(
                &format!("/conversations/{dispute}/grants"),
                &[
                    ("user_id", &dana.to_string()),
                    ("reach", "conversation"),
                    ("until", &until),
                ],
            )
            .expect_redirect(&format!("/conversations/{dispute}/audience"));
        assert_eq!(
        app.count(&format!(
            "access_grants WHERE user_id = {dana} AND conversation_id = {dispute} AND ended_at IS NULL"
        )),
        1
    );
        assert_eq!(app.count("audit_log WHERE action = 'grant.created'"), 1);

        // Dana sees that conversation, and only it: page, lists, counts, search.
        let page = dana_client.get(&format!("/conversations/{dispute}"));
        assert_eq!(page.status, 200);
        let last_day = confer::pages::format_date(
            today + Duration::days(10),
            confer::i18n::Tr::new(confer::i18n::Lang::En),
        );
        assert!(
            page.body.contains(&format!(
                "Dana Expert can see this until {last_day}, granted by Mia Manager."
            )),
            "{}",
            page.body
        );
        assert!(!page.body.contains("name=\"reply\""), "still no reply");
        // The last day is the organisation's, wherever the reader is.
        app.sql(&format!(
            "UPDATE users SET timezone = 'Pacific/Kiritimati' WHERE id = {dana}"
        ));
        let far_east = dana_client.get(&format!("/conversations/{dispute}"));
        assert!(
            far_east
                .body
                .contains(&format!("can see this until {last_day},"))
        );
        assert_eq!(
            dana_client.status_only(&format!("/conversations/{second}")),
            404
        );
        let inbox = dana_client.get("/conversations");
        assert_eq!(
            conversation_ids(&inbox.body),
            vec![dispute],
            "their first view"
        );
        assert!(
            inbox.body.contains("data-view=\"all\">1</span>"),
            "counted exactly"
        );
        let search = dana_client.get("/search?q=invoice");
        assert_eq!(conversation_ids(&search.body), vec![dispute]);
        // What they write is a note, as always.
        dana_client
            .post_form(
                &format!("/conversations/{dispute}/notes"),
                &[("body", "The charge is from the old plan.")],
            )
            .expect_done();

        // Mentioned there, she is told; mentioned where she sees nothing, not.
        for (id, text) in [
            (dispute, "@Dana Expert what do you make of it?"),
            (second, "@Dana Expert and this?"),
        ] {
            manager
                .post_form(&format!("/conversations/{id}/notes"), &[("body", text)])
                .expect_done();
        }
        assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {dana} AND kind = 'mention' AND conversation_id = {dispute}"
        )),
        1
    );
        assert_eq!(
            app.count(&format!(
                "notifications WHERE user_id = {dana} AND conversation_id = {second}"
            )),
            0
        );

        // The explainer and "who can see this" say why.
        let explained = manager.get(&format!("/settings/users/{dana}?conversation={dispute}"));
        assert!(explained.body.contains("data-verdict=\"yes\""));
        assert!(explained.body.contains("granted by Mia Manager"));
        let audience = manager.get(&format!("/conversations/{dispute}/audience"));
        assert!(audience.body.contains(&format!("data-user=\"{dana}\"")));
        assert!(audience.body.contains("Granted access"));

        // Every conversation of the customer, then revoked at once.
        manager
            .post_form(
                &format!("/conversations/{dispute}/grants"),
                &[
                    ("user_id", &dana.to_string()),
                    ("reach", "customer"),
                    ("until", ""),
                ],
            )
            .expect_redirect(&format!("/conversations/{dispute}/audience"));
        assert_eq!(
            dana_client.status_only(&format!("/conversations/{second}")),
            200
        );
        assert_eq!(
            dana_client.status_only(&format!("/conversations/{elsewhere}")),
            404
        );
        let mut inbox = conversation_ids(&dana_client.get("/conversations?view=all").body);
        inbox.sort();
        assert_eq!(inbox, vec![dispute, second]);
        let customer_grant = app.number(&format!(
            "SELECT id FROM access_grants WHERE customer_id = {carl} AND ended_at IS NULL"
        ));
        manager
            .post_form(
                &format!("/conversations/{second}/grants/{customer_grant}/revoke"),
                &[],
            )
            .expect_redirect(&format!("/conversations/{second}/audience"));
        assert_eq!(
            dana_client.status_only(&format!("/conversations/{second}")),
            404
        );
        assert_eq!(
            dana_client.status_only(&format!("/conversations/{dispute}")),
            200
        );
        assert_eq!(app.count("audit_log WHERE action = 'grant.revoked'"), 1);

        // The worker ends the other when its last day has passed.
        app.clock.advance(Duration::days(10));
        assert_eq!(
            app.run_jobs(None).grants_ended,
            0,
            "the last day is still on"
        );
        app.clock.advance(Duration::days(1));
        assert_eq!(app.run_jobs(None).grants_ended, 1);
        assert_eq!(app.run_jobs(None).grants_ended, 0, "once");
        assert_eq!(
            dana_client.status_only(&format!("/conversations/{dispute}")),
            404
        );
        assert_eq!(app.count("audit_log WHERE action = 'grant.expired'"), 1);
        let explained = manager.get(&format!("/settings/users/{dana}?conversation={dispute}"));
        assert!(explained.body.contains("data-verdict=\"no\""));
    }
);

db_test!(
    an_outside_expert_is_invited_straight_into_one_conversation,
    |app| {
        let app = app.with_org();
        app.staff();
        let carl = app.customer("Carl Customer", "carl@customer.test");
        let case = app.conversation("Strange voltage readings", carl, None, None, "open");
        let other = app.conversation("Another matter", carl, None, None, "open");
        let sink = crate::smtp::SmtpSink::start();
        let path = format!("/conversations/{case}/invite");
        let form = |name: &'static str, email: &'static str| {
            vec![
                ("name", name),
                ("email", email),
                ("invite_reach", "conversation"),
                ("invite_until", ""),
            ]
        };

        // The composer's offer lands on the form with the address filled in.
        let mut manager = app.sign_in("manager@acme.test");
        let page = manager.get(&format!("/conversations/{case}"));
        assert!(
            page.body
                .contains(&format!("data-invite=\"/conversations/{case}/audience\""))
        );
        let offered = manager.get(&format!(
            "/conversations/{case}/audience?invite=expert%40company.example"
        ));
        assert!(offered.body.contains("value=\"expert@company.example\""));

        // Agents may not; bad input and taken addresses say so and keep it.
        let mut agent = app.sign_in("agent@acme.test");
        assert_eq!(
            agent
                .post_form(&path, &form("Eve", "eve@company.example"))
                .status,
            403
        );
        assert!(
            !agent
                .get(&format!("/conversations/{case}"))
                .body
                .contains("data-invite="),
            "no offer for those who may not invite"
        );
        let bad = manager.post_form(&path, &form("", "not-an-email"));
        assert_eq!(bad.status, 422);
        assert!(
            bad.body
                .contains("Enter an email address like name@example.com.")
        );
        assert!(bad.body.contains("value=\"not-an-email\""));
        let taken = manager.post_form(&path, &form("Alan Again", "agent@acme.test"));
        assert_eq!(taken.status, 422);
        assert!(taken.body.contains("already has this email address"));
        app.sql("UPDATE org_settings SET collaborator_allowance = 'fixed', collaborator_allowance_fixed = 1");
        let full = manager.post_form(&path, &form("Erin Expert", "erin@company.example"));
        assert_eq!(full.status, 422, "Cora already uses the one seat");
        assert!(full.body.contains("may have 1"), "{}", full.body);
        assert_eq!(
            app.count("users WHERE email = 'erin@company.example'"),
            0,
            "nothing half done"
        );
        app.sql("UPDATE org_settings SET collaborator_allowance = 'unlimited'");

        manager
            .post_form(&path, &form("Erin Expert", "erin@company.example"))
            .expect_redirect(&format!("/conversations/{case}/audience"));
        let erin = app.user_id("erin@company.example");
        assert_eq!(
        app.count(&format!(
            "users WHERE id = {erin} AND user_type = 'collaborator' AND conversation_access = 'teams'"
        )),
        1
    );
        assert_eq!(
        app.count(&format!(
            "access_grants WHERE user_id = {erin} AND conversation_id = {case} AND ended_at IS NULL"
        )),
        1
    );
        assert_eq!(
            app.count("audit_log WHERE action IN ('user.invited', 'grant.created')"),
            2
        );

        // She accepts, and sees that conversation and nothing else.
        app.run_jobs(Some(sink.port));
        let mail = sink.wait_for(1)[0].clone();
        let link = mail.link("http://127.0.0.1/invitations/").expect("link");
        let mut erin_client = app.client();
        erin_client
            .post_form(
                link.trim_start_matches("http://127.0.0.1"),
                &[
                    ("password", "erin's long password"),
                    ("password_confirm", "erin's long password"),
                ],
            )
            .expect_redirect("/");
        let inbox = erin_client.get("/conversations");
        assert_eq!(conversation_ids(&inbox.body), vec![case]);
        assert_eq!(
            erin_client.status_only(&format!("/conversations/{case}")),
            200
        );
        assert_eq!(
            erin_client.status_only(&format!("/conversations/{other}")),
            404
        );
    }
);

db_test!(
    collaborators_never_reach_a_customer_whatever_they_try,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let carl = app.customer("Carl Customer", "carl@customer.test");
        let case = app.conversation("Printer on fire", carl, Some(support), None, "open");
        let sink = crate::smtp::SmtpSink::start();
        let mut cora = app.sign_in("collab@acme.test");
        let case_id = case.to_string();

        // In the browser: reply, change, move, bulk change, open a new one.
        let tries: [(String, Vec<(&str, &str)>); 6] = [
            (
                format!("/conversations/{case}/reply"),
                vec![("body", "Dear Carl, it is fixed.")],
            ),
            (
                format!("/conversations/{case}/reply"),
                vec![("body", "Dear Carl, again.")],
            ),
            (
                format!("/conversations/{case}/properties"),
                vec![("status", "done")],
            ),
            (format!("/conversations/{case}/move"), vec![("to", "trash")]),
            (
                "/conversations/bulk".to_string(),
                vec![("ids", case_id.as_str()), ("status", "done")],
            ),
            (
                "/conversations/new".to_string(),
                vec![
                    ("customer_email", "carl@customer.test"),
                    ("subject", "Hi"),
                    ("message", "Hello Carl"),
                ],
            ),
        ];
        for (path, fields) in &tries {
            assert_eq!(cora.post_form(path, fields).status, 403, "{path}");
        }
        // Through the API: reply, change, open.
        let token = app.api_token("collab@acme.test");
        let mut api = app.client();
        for (method, path, body) in [
            (
                "POST",
                format!("/api/v1/conversations/{case}/replies"),
                serde_json::json!({"body": "Dear Carl"}),
            ),
            (
                "PATCH",
                format!("/api/v1/conversations/{case}"),
                serde_json::json!({"status": "done"}),
            ),
            (
                "POST",
                "/api/v1/conversations".to_string(),
                serde_json::json!({"customer_email": "carl@customer.test", "subject": "Hi", "message": "Hello"}),
            ),
        ] {
            let response = api.api(method, &path, Some(&token), Some(&body), &[]);
            assert_eq!(response.status, 403, "{method} {path}: {}", response.body);
        }
        // By email, into the customer's conversation as if she were him.
        let inbound = app.inbound_token();
        let mail = format!(
            "From: collab@acme.test\r\nTo: support@confer.test\r\nSubject: Re: Printer on fire [#{case}]\r\n\
         Message-ID: <cora-1@acme.test>\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n\r\nDear Carl, it is fixed.\r\n"
        );
        let answered = app.client().post_mail(&inbound, mail.as_bytes());
        assert_eq!(answered.status, 200, "{}", answered.body);
        assert!(answered.body.contains("\"rejected\""), "{}", answered.body);

        // Nothing was written for the customer, and nothing left for him.
        assert_eq!(
            app.count(&format!("messages WHERE conversation_id = {case}")),
            0
        );
        assert_eq!(
            app.count("outbox WHERE recipient = 'carl@customer.test'"),
            0
        );
        app.run_jobs(Some(sink.port));
        assert!(
            sink.messages()
                .iter()
                .all(|m| !m.to.iter().any(|to| to.contains("carl@customer.test"))),
            "the SMTP server received nothing for the customer"
        );
        assert!(
            sink.messages()
                .iter()
                .any(|m| m.to.iter().any(|to| to.contains("collab@acme.test"))),
            "she is told why her mail went nowhere"
        );

        // Each refusal counted once, per channel; the two replies in one row.
        let attempts = |channel: &str| {
            app.number(&format!(
            "SELECT COALESCE(SUM(attempts), 0) FROM refused_attempts WHERE channel = '{channel}'"
        ))
        };
        assert_eq!(
            (attempts("web"), attempts("api"), attempts("email")),
            (6, 3, 1)
        );
        assert_eq!(
        app.count("refused_attempts WHERE channel = 'web' AND action = 'POST /conversations/{id}/reply' AND attempts = 2"),
        1
    );
        // An agent refused something is no collaborator's attempt.
        let mut agent = app.sign_in("agent@acme.test");
        assert_eq!(
            agent
                .post_form(
                    &format!("/conversations/{case}/grants"),
                    &[("reach", "conversation")]
                )
                .status,
            403
        );
        assert_eq!(attempts("web"), 6);

        // The evidence, for admins.
        let mut admin = app.sign_in("admin@acme.test");
        let page = admin.get("/settings/collaborators");
        assert_eq!(page.status, 200);
        for text in [
            "Replies to customers written by collaborators: 0.",
            "Refused attempts in the last 90 days: 10.",
            "6 in the browser",
            "3 by API",
            "1 by email",
        ] {
            assert!(page.body.contains(text), "{text} in {}", page.body);
        }
        assert_eq!(agent.status_only("/settings/collaborators"), 403);
    }
);
