//! In Chromium: an agent finds a saved reply by typing, inserts it (its
//! placeholders filled in) into the reply box, and sends it with "Send and
//! mark done"; a collaborator's composer offers only note snippets.

use super::*;

db_test!(
    an_agent_replies_with_a_saved_reply_and_marks_it_done,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let carla = app.customer("Carla Customer", "carla@example.com");
        let alan = app.user_id("agent@acme.test");
        let conversation =
            app.conversation("Refund please", carla, Some(support), Some(alan), "open");
        let agent = Browser::open(&app, "saved-replies");
        agent.sign_in("agent@acme.test");
        agent.goto("/saved-replies");
        agent.fill("#title", "Refund on its way");
        agent.fill(
            "#body",
            "Hi {customer.first_name}, your refund is on its way. {agent.first_name}",
        );
        agent.click("form[action='/saved-replies'] button[type=submit]");
        agent.wait_for_path("/saved-replies?notice=saved");
        agent.fill("#title", "Shipping times");
        agent.fill("#body", "Parcels take 3 days.");
        agent.click("form[action='/saved-replies'] button[type=submit]");
        agent.wait_for_path("/saved-replies?notice=saved");
        agent.check_both_widths("manage");

        agent.goto(&format!("/conversations/{conversation}"));
        agent.click("#tab-note");
        agent.click("[data-saved-picker] summary");
        agent.wait_for_text("#saved-choices", "Refund on its way");
        agent.fill("#saved-filter", "refund");
        let visible = agent.script(
            "return Array.from(document.querySelectorAll('#saved-choices li'))
           .filter(li => !li.hidden).map(li => li.querySelector('a').textContent)",
        );
        assert_eq!(visible, serde_json::json!(["Refund on its way"]));
        agent.check_both_widths("picker-open");
        agent.click("#saved-choices li:not([hidden]) a");
        // The reply tab is chosen and the text is in its box, filled in.
        assert_eq!(
            agent.script(
                "return document.getElementById('tab-reply').getAttribute('aria-selected')"
            ),
            serde_json::json!("true")
        );
        assert_eq!(
            agent.script("return document.getElementById('reply').value"),
            serde_json::json!("Hi Carla, your refund is on its way. Alan")
        );
        agent.click("#reply-form button[name=then][value=done]");
        agent.wait_for(|p| {
            p.starts_with(&format!(
                "/conversations/{conversation}?notice=replied_done"
            ))
        });
        assert_eq!(
            app.count(&format!(
                "conversations WHERE id = {conversation} AND status = 'done'"
            )),
            1
        );
        assert_eq!(
            app.count("messages WHERE body = 'Hi Carla, your refund is on its way. Alan'"),
            1
        );

        // The collaborator is offered note snippets only.
        app.sql(&format!(
        "INSERT INTO saved_replies (title, body, kind, team_id, created_at, updated_at) VALUES \
         ('Checked the logs', 'Nothing in the logs for {{customer.name}}.', 'note', {support}, '2026-01-01 00:00:00', '2026-01-01 00:00:00'), \
         ('Dear customer', 'Dear {{customer.name}}', 'reply', {support}, '2026-01-01 00:00:00', '2026-01-01 00:00:00')"
    ));
        let collab = Browser::open(&app, "saved-replies-collaborator");
        collab.sign_in("collab@acme.test");
        collab.goto(&format!("/conversations/{conversation}"));
        collab.click("[data-saved-picker] summary");
        collab.wait_for_text("#saved-choices", "Checked the logs");
        let offered = collab.script(
        "return Array.from(document.querySelectorAll('#saved-choices a')).map(a => a.textContent)",
    );
        assert_eq!(offered, serde_json::json!(["Checked the logs"]));
        collab.click("#saved-choices a");
        assert_eq!(
            collab.script("return document.getElementById('note').value"),
            serde_json::json!("Nothing in the logs for Carla Customer.")
        );
        collab.check_both_widths("collaborator-picker");
    }
);
