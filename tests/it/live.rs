//! Live updates of a conversation: the event stream says when a newer
//! message exists and who else is viewing or replying (through the
//! database, so any node's writes count); a reply written without having
//! seen someone else's newer reply comes back with a warning and the text
//! kept.

use std::io::{BufRead, BufReader};
use std::sync::mpsc;
use std::time::Duration;

use confer::policy::BuiltinRole;

use crate::db_test;
use crate::support::*;

/// The conversation's event stream as `client`, event by event (type and
/// data) through a channel.
fn stream(app: &TestApp, client: &Client, conversation: i64) -> mpsc::Receiver<(String, String)> {
    let url = format!("{}/conversations/{conversation}/live", app.base_url);
    let cookie = client.cookie_header();
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let response = agent
            .get(&url)
            .header("Cookie", &cookie)
            .call()
            .expect("stream");
        if response.status() != 200 {
            let _ = tx.send(("status".into(), response.status().as_u16().to_string()));
            return;
        }
        let mut reader = BufReader::new(response.into_body().into_reader());
        let (mut event, mut data) = (String::new(), String::new());
        let mut line = String::new();
        while reader.read_line(&mut line).unwrap_or(0) > 0 {
            let text = line.trim_end().to_string();
            line.clear();
            if text.is_empty() {
                if !event.is_empty() && tx.send((event.clone(), data.clone())).is_err() {
                    return;
                }
                event.clear();
                data.clear();
            } else if let Some(rest) = text.strip_prefix("event: ") {
                event = rest.to_string();
            } else if let Some(rest) = text.strip_prefix("data: ") {
                data = rest.to_string();
            }
        }
    });
    rx
}

/// Waits (at most 10 s) for an event of `kind` whose data contains `needle`.
fn expect_event(rx: &mpsc::Receiver<(String, String)>, kind: &str, needle: &str) -> String {
    let deadline = std::time::Instant::now() + Duration::from_secs(10);
    loop {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let (event, data) = rx
            .recv_timeout(left)
            .unwrap_or_else(|_| panic!("no {kind} event with {needle:?} within 10 s"));
        if event == kind && data.contains(needle) {
            return data;
        }
    }
}

db_test!(
    the_live_stream_tells_of_new_messages_and_who_is_here,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let customer = app.customer("Carla Customer", "carla@example.com");
        let conversation = app.conversation("Printer", customer, Some(support), None, "open");
        let agent = app.sign_in("agent@acme.test");
        let mut manager = app.sign_in("manager@acme.test");
        let events = stream(&app, &agent, conversation);
        // The manager opens it too, then starts writing a reply.
        let _manager_events = stream(&app, &manager, conversation);
        expect_event(&events, "presence", "Viewing now: Mia Manager");
        manager
            .post_form(
                &format!("/conversations/{conversation}/presence"),
                &[("replying", "1")],
            )
            .expect_status(204);
        expect_event(&events, "presence", "Replying now: Mia Manager");
        manager
            .post_multipart(
                &format!("/conversations/{conversation}/reply"),
                &[("body", "We are on it.")],
                &[],
            )
            .expect_done();
        let newest = app.count(&format!("messages WHERE conversation_id = {conversation}"));
        assert_eq!(newest, 1);
        expect_event(&events, "messages", "\"newest\":");
        // A note through another door (another node would do the same).
        let token = app.api_token("admin@acme.test");
        app.client()
            .api(
                "POST",
                &format!("/api/v1/conversations/{conversation}/notes"),
                Some(&token),
                Some(&serde_json::json!({ "body": "Checked." })),
                &[],
            )
            .expect_status(201);
        expect_event(&events, "messages", "\"newest\":");

        // Only those who may reply say they are replying; only those who see
        // the conversation get its stream.
        let mut collab = app.sign_in("collab@acme.test");
        collab
            .post_form(
                &format!("/conversations/{conversation}/presence"),
                &[("replying", "1")],
            )
            .expect_status(403);
        let hidden_team = app.team("Hidden");
        let hidden = app.conversation("Elsewhere", customer, Some(hidden_team), None, "open");
        app.user("tia@acme.test", "Tia Teams")
            .role(BuiltinRole::Agent)
            .in_team(support)
            .teams_only()
            .create();
        let tia = app.sign_in("tia@acme.test");
        let refused = stream(&app, &tia, hidden);
        assert_eq!(
            refused
                .recv_timeout(Duration::from_secs(10))
                .expect("answer"),
            ("status".to_string(), "404".to_string())
        );
    }
);

db_test!(
    a_reply_written_over_someone_elses_is_held_back_once,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let customer = app.customer("Carla Customer", "carla@example.com");
        let conversation = app.conversation("Printer", customer, Some(support), None, "open");
        let mut agent = app.sign_in("agent@acme.test");
        let mut manager = app.sign_in("manager@acme.test");
        let page = agent.get(&format!("/conversations/{conversation}"));
        let seen = between(&page.body, "name=\"seen_last\" value=\"", "\"");
        manager
            .post_multipart(
                &format!("/conversations/{conversation}/reply"),
                &[("body", "Mia here: fixed.")],
                &[],
            )
            .expect_done();
        let held = agent.post_multipart(
            &format!("/conversations/{conversation}/reply"),
            &[("body", "Alan here: looking."), ("seen_last", &seen)],
            &[],
        );
        assert_eq!(held.status, 409, "{}", held.body);
        assert!(
            held.body
                .contains("Mia Manager replied while you were writing.")
        );
        assert!(
            held.body.contains("Alan here: looking.</textarea>"),
            "the text is kept"
        );
        assert!(
            held.body.contains("Mia here: fixed."),
            "the new reply shows"
        );
        assert_eq!(
            app.count(&format!(
                "messages WHERE conversation_id = {conversation} AND kind = 'reply'"
            )),
            1
        );
        // Sent again from that page, having seen it: it goes.
        let seen = between(&held.body, "name=\"seen_last\" value=\"", "\"");
        agent
            .post_multipart(
                &format!("/conversations/{conversation}/reply"),
                &[("body", "Alan here: looking."), ("seen_last", &seen)],
                &[],
            )
            .expect_redirect(&format!("/conversations/{conversation}"));
        assert_eq!(
            app.count(&format!(
                "messages WHERE conversation_id = {conversation} AND kind = 'reply'"
            )),
            2
        );
    }
);

fn between(text: &str, start: &str, end: &str) -> String {
    let from = text.find(start).expect("start") + start.len();
    let to = text[from..].find(end).expect("end") + from;
    text[from..to].to_string()
}

db_test!(
    the_composer_previews_markdown_and_comes_back_to_the_message,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let customer = app.customer("Carla Customer", "carla@example.com");
        let conversation = app.conversation("Printer", customer, Some(support), None, "open");
        let mut collab = app.sign_in("collab@acme.test");
        let preview = collab.post_form(
            "/markdown/preview",
            &[(
                "text",
                "**Bold** and <script>alert(1)</script> [a](javascript:x)",
            )],
        );
        assert_eq!(preview.status, 200);
        let html = preview.json()["html"].as_str().unwrap().to_string();
        assert!(html.contains("<strong>Bold</strong>"), "{html}");
        assert!(
            !html.contains("<script") && !html.contains("javascript:"),
            "{html}"
        );
        app.client()
            .post_raw("/markdown/preview", &[("text", "x")])
            .expect_status(403);
        // After a note, the page comes back at that note.
        let done = collab.post_multipart(
            &format!("/conversations/{conversation}/notes"),
            &[("body", "Looked into it.")],
            &[],
        );
        let location = done.location.clone().unwrap_or_default();
        let note = location.split("#message-").nth(1).expect("a fragment");
        let page = collab.get(&format!("/conversations/{conversation}"));
        assert!(page.body.contains(&format!("id=\"message-{note}\"")));
        assert!(page.body.contains("Looked into it."));
    }
);
