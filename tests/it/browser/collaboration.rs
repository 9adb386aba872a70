//! In Chromium: bringing an outside expert into one conversation — from
//! the note composer's offer to their invitation, what they see, and the
//! grant running out.

use super::*;
use chrono::TimeZone;

db_test!(
    an_expert_is_invited_into_one_conversation_and_loses_it_when_the_grant_ends,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let carl = app.customer_with_phone();
        let case = app.conversation(
            "Strange voltage readings",
            carl,
            Some(support),
            None,
            "open",
        );
        let other = app.conversation("Another matter", carl, Some(support), None, "open");
        let sink = crate::smtp::SmtpSink::start();

        let manager = Browser::open(&app, "expert-manager");
        manager.sign_in("manager@acme.test");
        manager.goto(&format!("/conversations/{case}"));
        manager.click("#tab-note");
        manager.type_more("#note", "Could @expert@company.example");
        manager.wait_for_text(
            "#mention-list",
            "Invite expert@company.example as a collaborator for this conversation",
        );
        manager.check_page("invite-offer");
        // The offer opens in a new tab; here, in this one.
        manager.goto(&format!(
            "/conversations/{case}/audience?invite=expert%40company.example"
        ));
        manager.check_both_widths("audience-invite");
        manager.fill("#name", "Erin Expert");
        manager.click("form[action$='/invite'] button[type=submit]");
        manager.wait_for(|path| path.ends_with("?notice=invited"));
        manager.wait_for_text("[data-grants]", "Erin Expert can see this until");
        manager.check_both_widths("audience-granted");

        assert_eq!(app.run_jobs(Some(sink.port)).sent, 1);
        let mail = sink.wait_for(1)[0].clone();
        let link = mail.link("http://127.0.0.1/invitations/").expect("link");
        let expert = Browser::open(&app, "expert");
        expert.goto(link.trim_start_matches("http://127.0.0.1"));
        expert.fill("#password", "erin's long password");
        expert.fill("#password_confirm", "erin's long password");
        expert.click("form button[type=submit]");
        expert.wait_for_path("/");
        expert.goto("/conversations");
        let rows = expert.script("return [...document.querySelectorAll('tbody a[href^=\"/conversations/\"]')].map(a => a.getAttribute('href'))");
        assert_eq!(
            rows,
            serde_json::json!([format!("/conversations/{case}")]),
            "only that one"
        );
        expert.check_both_widths("expert-inbox");
        expert.goto(&format!("/conversations/{case}"));
        expert.wait_for_text("[data-grant-lines]", "Erin Expert can see this until");
        expert.check_both_widths("expert-conversation");
        expert.goto(&format!("/conversations/{other}"));
        assert!(
            expert.text("main").contains("not found") || expert.text("main").contains("Not found")
        );

        // The grant's last day passes; the worker ends it; she sees nothing.
        app.clock.advance(chrono::Duration::days(15));
        assert_eq!(app.run_jobs(None).grants_ended, 1);
        expert.goto(&format!("/conversations/{case}"));
        assert!(expert.text("main").to_lowercase().contains("not found"));
        expert.goto("/conversations");
        let rows = expert.script(
            "return document.querySelectorAll('tbody a[href^=\"/conversations/\"]').length",
        );
        assert_eq!(rows, serde_json::json!(0));
        expert.check_page("expert-after-the-grant");
    }
);

db_test!(
    an_agent_asks_a_collaborator_who_answers_from_asked_of_you_and_the_report_counts_it,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let carl = app.customer_with_phone();
        let case = app.conversation("Refund for order 7781", carl, Some(support), None, "open");
        let cora = app.user_id("collab@acme.test");

        let agent = Browser::open(&app, "ask-agent");
        agent.sign_in("agent@acme.test");
        agent.goto(&format!("/conversations/{case}"));
        agent.click("#tab-note");
        agent.type_more(
            "#note",
            "@?Cora Collaborator is the refund approved by finance?",
        );
        // The native date-time picker takes no typed keys through WebDriver
        // the same way in every locale: the value is set as the picker would.
        let due = chrono_tz::Europe::Berlin
            .from_utc_datetime(&(app.clock.now() + chrono::Duration::hours(4)))
            .format("%Y-%m-%dT%H:%M")
            .to_string();
        agent.script(&format!(
            "document.querySelector('#due_at').value = '{due}'; return true;"
        ));
        agent.click("#note-form button[type=submit]");
        agent.wait_for_text("#requests", "Alan Agent asked Cora Collaborator");
        assert!(agent.text("#requests").contains("Wanted by"));
        agent.check_both_widths("question-asked");
        let request = app.number("SELECT MAX(id) FROM requests");

        // Cora lands on "Asked of you" and answers there.
        let collaborator = Browser::open(&app, "ask-collaborator");
        collaborator.sign_in("collab@acme.test");
        collaborator.goto("/conversations");
        collaborator.wait_for_text(".requests--cards", "is the refund approved by finance?");
        assert!(
            collaborator
                .text(".inbox-views [aria-current=page]")
                .contains("Asked of you")
        );
        collaborator.check_both_widths("asked-of-you");
        collaborator.fill(
            &format!("#answer-{request}"),
            "Yes, finance approved it this morning.",
        );
        collaborator.click(&format!(
            "form[action='/requests/{request}/answer'] button[type=submit]"
        ));
        collaborator.wait_for(|path| path.ends_with("notice=answered"));
        collaborator.wait_for_text("main", "Nobody is waiting for an answer from you.");
        collaborator.check_page("asked-of-you-answered");
        assert_eq!(
            app.count(&format!(
                "requests WHERE id = {request} AND asked_of = {cora} AND state = 'answered'"
            )),
            1
        );

        // The agent sees it answered, and the report counts it.
        agent.goto(&format!("/conversations/{case}"));
        agent.wait_for_text("#requests", "Yes, finance approved it this morning.");
        assert!(agent.text("#requests").contains("Answered"));
        agent.check_both_widths("question-answered");
        let manager = Browser::open(&app, "ask-manager");
        manager.sign_in("manager@acme.test");
        manager.goto("/reports");
        let row = manager.text(&format!("tr[data-person='{cora}']"));
        assert!(row.starts_with("Cora Collaborator"), "{row}");
        // Asked 0, asked of her 1, answered 1, declined 0, waiting 0.
        assert!(row.contains("0 1 1 0 0"), "{row}");
        manager.check_both_widths("report-questions");
    }
);
