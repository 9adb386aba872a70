//! Requests: a question asked in a note (`@?Name`, or every mention with
//! "Ask"), answered from "Asked of you" or by the next note, declined with a
//! reason, withdrawn, reminded once when overdue; in the API, webhooks,
//! search, reports and Settings > Collaborators.

use chrono::{Duration, TimeZone};
use serde_json::json;

use crate::db_test;
use crate::support::{Client, Response, TestApp, conversation_ids};

/// Adds a note through the conversation page's form.
fn note_on(client: &mut Client, id: i64, fields: &[(&str, &str)]) -> Response {
    client.post_multipart(&format!("/conversations/{id}/notes"), fields, &[])
}

/// A time as the note composer's due field takes it (Berlin, the org's).
fn local_input(app: &TestApp, from_now: Duration) -> String {
    chrono_tz::Europe::Berlin
        .from_utc_datetime(&(app.clock.now() + from_now))
        .format("%Y-%m-%dT%H:%M")
        .to_string()
}

/// Subscribes a webhook to the request events (delivery is not the point).
fn subscribe(app: &TestApp) {
    app.sql(&format!(
        "INSERT INTO webhooks (url, secret, events, active, created_at) VALUES \
         ('https://hooks.example/confer', 'secret', \
          'request.created request.answered request.declined', TRUE, '{}')",
        app.clock.now().format("%Y-%m-%d %H:%M:%S")
    ));
}

db_test!(
    a_question_is_asked_answered_from_asked_of_you_and_counted,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        subscribe(&app);
        let carl = app.customer("Carl Customer", "carl@customer.test");
        let agent_id = app.user_id("agent@acme.test");
        let cora = app.user_id("collab@acme.test");
        let id = app.conversation(
            "Invoice dispute",
            carl,
            Some(support),
            Some(agent_id),
            "open",
        );

        let mut agent = app.sign_in("agent@acme.test");
        let due = local_input(&app, Duration::hours(3));
        agent
            .post_multipart(
                &format!("/conversations/{id}/notes"),
                &[
                    ("body", "@?Cora Collaborator was invoice 4411 paid?"),
                    ("due_at", &due),
                ],
                &[],
            )
            .expect_redirect(&format!("/conversations/{id}"));
        assert_eq!(
            app.count(&format!(
                "requests WHERE asked_of = {cora} AND asked_by = {agent_id} \
                 AND state = 'open' AND due_at IS NOT NULL"
            )),
            1
        );
        let request = app.number("SELECT MAX(id) FROM requests");
        assert_eq!(
            app.count(&format!(
                "notifications WHERE user_id = {cora} AND kind = 'request'"
            )),
            1
        );
        assert_eq!(
            app.count(&format!(
                "notifications WHERE user_id = {cora} AND kind = 'mention'"
            )),
            0,
            "asked, not merely mentioned"
        );
        assert_eq!(
            app.count(
                "outbox WHERE recipient = 'collab@acme.test' \
                 AND body_text LIKE '%was invoice 4411 paid?%' AND body_text LIKE '%Wanted by%'"
            ),
            1
        );
        assert_eq!(
            app.count("webhook_deliveries WHERE event = 'request.created'"),
            1
        );
        // The question sits at the top of the conversation.
        let page = agent.get(&format!("/conversations/{id}"));
        assert!(page.body.contains("id=\"requests\""));
        assert!(page.body.contains("Alan Agent asked Cora Collaborator"));
        assert!(page.body.contains("data-state=\"open\""));

        // Cora lands on "Asked of you" and answers there.
        let mut cora_client = app.sign_in("collab@acme.test");
        let inbox = cora_client.get("/conversations");
        assert!(inbox.body.contains("aria-current=\"page\"><span class=\"inbox-view-name\">Asked of you</span> <span class=\"count\" data-view=\"asked\">1</span>"), "{}", inbox.body);
        assert!(inbox.body.contains("was invoice 4411 paid?"));
        assert!(
            inbox
                .body
                .contains(&format!("action=\"/requests/{request}/answer\""))
        );
        let empty = cora_client.post_form(
            &format!("/requests/{request}/answer"),
            &[("body", "  "), ("back", "asked")],
        );
        assert_eq!(empty.status, 422);
        assert!(empty.body.contains("This field is required."));
        assert_eq!(
            app.count(&format!("requests WHERE id = {request} AND state = 'open'")),
            1
        );
        cora_client
            .post_form(
                &format!("/requests/{request}/answer"),
                &[
                    ("body", "Paid on 3 Dec, see the bank export."),
                    ("back", "asked"),
                ],
            )
            .expect_location("/conversations?view=asked&notice=answered");
        let answer = app.newest_message(id);
        assert_eq!(
            app.count(&format!(
                "requests WHERE id = {request} AND state = 'answered' \
                 AND answer_message_id = {answer} AND closed_at IS NOT NULL"
            )),
            1
        );
        assert_eq!(
            app.count(&format!(
                "messages WHERE id = {answer} AND kind = 'note' AND author_user_id = {cora}"
            )),
            1
        );
        assert_eq!(
            app.count(&format!(
                "conversations WHERE id = {id} AND status = 'open' \
                 AND assignee_id = {agent_id} AND team_id = {support}"
            )),
            1,
            "answering never touches the conversation's properties"
        );
        assert_eq!(
            app.count(&format!(
                "notifications WHERE user_id = {agent_id} AND kind = 'request_answered'"
            )),
            1
        );
        assert_eq!(
            app.count("webhook_deliveries WHERE event = 'request.answered'"),
            1
        );
        let after = cora_client.get("/conversations?view=asked");
        assert!(
            after
                .body
                .contains("Nobody is waiting for an answer from you.")
        );

        let page = agent.get(&format!("/conversations/{id}"));
        assert!(page.body.contains("data-state=\"answered\""));
        assert!(page.body.contains("Paid on 3 Dec, see the bank export."));

        // The reports and Settings > Collaborators count it.
        let mut manager = app.sign_in("manager@acme.test");
        let report = manager.get("/reports");
        assert!(
            report
                .body
                .contains("<title>Reports · Acme Support</title>")
        );
        let main = report.body.split("<main").nth(1).expect("the page's main");
        assert!(
            main.contains("id=\"requests-heading\""),
            "the questions are on the page"
        );
        let row = main
            .split(&format!("<tr data-person=\"{cora}\">"))
            .nth(1)
            .and_then(|rest| rest.split("</tr>").next())
            .expect("Cora's row");
        // Asked by her 0, asked of her 1, answered 1, declined 0, waiting 0.
        assert!(
            row.contains("<td>0</td><td>1</td><td>1</td><td>0</td><td>0</td>"),
            "{row}"
        );
        let mut admin = app.sign_in("admin@acme.test");
        let settings = admin.get("/settings/collaborators");
        assert!(settings.body.contains("data-answered=\"1\""));
        assert!(
            settings
                .body
                .contains("collaborators answered 1 of 1 questions")
        );
    }
);

db_test!(
    questions_are_declined_withdrawn_reminded_and_answered_by_the_next_note,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        subscribe(&app);
        let billing = app.team("Billing");
        app.user("dana@partner.test", "Dana Expert")
            .collaborator()
            .teams_only()
            .in_team(billing)
            .create();
        let carl = app.customer("Carl Customer", "carl@customer.test");
        let id = app.conversation("Refund", carl, Some(support), None, "pending");
        let (agent_id, manager, cora) = (
            app.user_id("agent@acme.test"),
            app.user_id("manager@acme.test"),
            app.user_id("collab@acme.test"),
        );
        let mut agent = app.sign_in("agent@acme.test");
        let note = |client: &mut Client, fields: &[(&str, &str)]| note_on(client, id, fields);

        // Refusals keep what was typed and write nothing.
        let past = local_input(&app, -Duration::hours(1));
        let refused = note(
            &mut agent,
            &[("body", "@?Mia Manager refund ok?"), ("due_at", &past)],
        );
        assert_eq!(refused.status, 422);
        assert!(refused.body.contains("Choose a time in the future."));
        assert!(refused.body.contains("@?Mia Manager refund ok?"));
        assert!(refused.body.contains(&format!("value=\"{past}\"")));
        let alone = note(
            &mut agent,
            &[
                ("body", "Just a note"),
                ("due_at", &local_input(&app, Duration::hours(1))),
            ],
        );
        assert_eq!(alone.status, 422);
        assert!(alone.body.contains("Ask someone (@?Name"));
        let unreadable = note(
            &mut agent,
            &[("body", "@?Mia Manager x"), ("due_at", "soon")],
        );
        assert_eq!(unreadable.status, 422);
        assert!(unreadable.body.contains("This is not a date and time."));
        assert_eq!(app.count("requests"), 0);
        assert_eq!(app.count("messages"), 0);

        // Someone who cannot see it is not asked, and the asker is told.
        let unseen = note(&mut agent, &[("body", "@?Dana Expert do you know?")]);
        let location = unseen.location.clone().unwrap_or_default();
        assert!(location.contains("unseen="), "{location}");
        assert_eq!(app.count("requests"), 0);
        assert!(
            agent
                .get(&location)
                .body
                .contains("Not notified: Dana Expert cannot see this conversation.")
        );

        // "Ask everyone I mention", due in an hour: the manager is asked.
        let due = local_input(&app, Duration::hours(1));
        note(
            &mut agent,
            &[
                ("body", "@Mia Manager can we refund twice?"),
                ("ask", "1"),
                ("due_at", &due),
            ],
        )
        .expect_redirect(&format!("/conversations/{id}"));
        let asked_manager = app.number("SELECT MAX(id) FROM requests");
        assert_eq!(
            app.count(&format!(
                "requests WHERE id = {asked_manager} AND asked_of = {manager} AND state = 'open'"
            )),
            1
        );
        // Overdue: reminded once, with the due time in their timezone.
        assert_eq!(app.run_jobs(None).requests_reminded, 0, "not yet due");
        app.clock.advance(Duration::hours(2));
        assert_eq!(app.run_jobs(None).requests_reminded, 1);
        assert_eq!(app.run_jobs(None).requests_reminded, 0, "once");
        assert_eq!(
            app.count(&format!(
                "notifications WHERE user_id = {manager} AND kind = 'request_due'"
            )),
            1
        );
        // Typed in Berlin time, shown in the manager's (the org's, Berlin).
        let typed = chrono::NaiveDateTime::parse_from_str(&due, "%Y-%m-%dT%H:%M").unwrap();
        let due_shown = confer::pages::format_datetime(
            chrono_tz::Europe::Berlin
                .from_local_datetime(&typed)
                .unwrap()
                .naive_utc(),
            chrono_tz::Europe::Berlin,
            confer::i18n::Tr::new(confer::i18n::Lang::En),
        );
        assert_eq!(
            app.count(&format!(
                "outbox WHERE recipient = 'manager@acme.test' AND subject LIKE 'An answer is due%' \
                 AND body_text LIKE '%Wanted by {due_shown}.%'"
            )),
            1
        );
        let overdue = app
            .sign_in("manager@acme.test")
            .get("/conversations?view=asked");
        assert!(overdue.body.contains("request--overdue"));
        assert!(overdue.body.contains("Overdue since"));

        // A note with "This note answers" unticked leaves it open; the next
        // note (here by email-less API, no choice made) answers it.
        let mut manager_client = app.sign_in("manager@acme.test");
        let page = manager_client.get(&format!("/conversations/{id}"));
        assert!(page.body.contains("This note answers"));
        note(
            &mut manager_client,
            &[("body", "Looking into it"), ("answering", "1")],
        )
        .expect_done();
        assert_eq!(
            app.count(&format!(
                "requests WHERE id = {asked_manager} AND state = 'open'"
            )),
            1
        );
        let token = app.api_token("manager@acme.test");
        app.client()
            .api(
                "POST",
                &format!("/api/v1/conversations/{id}/notes"),
                Some(&token),
                Some(&json!({ "body": "Yes, refund both." })),
                &[],
            )
            .expect_status(201);
        let yes = app.newest_message(id);
        assert_eq!(
            app.count(&format!(
                "requests WHERE id = {asked_manager} AND state = 'answered' AND answer_message_id = {yes}"
            )),
            1
        );
        // …and may pick the earlier note as the answer instead.
        let looking = app.number(&format!(
            "SELECT id FROM messages WHERE body = 'Looking into it' AND conversation_id = {id}"
        ));
        manager_client
            .post_form(
                &format!("/requests/{asked_manager}/answer"),
                &[("message_id", &looking.to_string())],
            )
            .expect_redirect(&format!("/conversations/{id}"));
        assert_eq!(
            app.count(&format!(
                "requests WHERE id = {asked_manager} AND answer_message_id = {looking}"
            )),
            1
        );

        // Declined with a reason: the asker is told why.
        note(
            &mut agent,
            &[("body", "@?Cora Collaborator seen this customer before?")],
        )
        .expect_done();
        let asked_cora = app.number("SELECT MAX(id) FROM requests");
        let mut cora_client = app.sign_in("collab@acme.test");
        let no_reason = cora_client.post_form(
            &format!("/requests/{asked_cora}/decline"),
            &[("reason", "")],
        );
        assert_eq!(no_reason.status, 422);
        assert!(no_reason.body.contains("This field is required."));
        // Only the person asked declines.
        assert_eq!(
            agent
                .post_form(
                    &format!("/requests/{asked_cora}/decline"),
                    &[("reason", "no")],
                )
                .status,
            403
        );
        cora_client
            .post_form(
                &format!("/requests/{asked_cora}/decline"),
                &[("reason", "I joined last week.")],
            )
            .expect_redirect(&format!("/conversations/{id}"));
        assert_eq!(
            app.count(&format!(
                "requests WHERE id = {asked_cora} AND state = 'declined' \
                 AND decline_reason = 'I joined last week.'"
            )),
            1
        );
        assert_eq!(
            app.count(&format!(
                "notifications WHERE user_id = {agent_id} AND kind = 'request_declined'"
            )),
            1
        );
        assert_eq!(
            app.count("outbox WHERE recipient = 'agent@acme.test' AND body_text LIKE '%Reason: I joined last week.%'"),
            1
        );
        assert_eq!(
            app.count("webhook_deliveries WHERE event = 'request.declined'"),
            1
        );
        let closed_again = cora_client.post_form(
            &format!("/requests/{asked_cora}/decline"),
            &[("reason", "again")],
        );
        assert_eq!(closed_again.status, 422);
        assert!(
            closed_again
                .body
                .contains("This question is no longer open.")
        );

        // Withdrawn by the asker; nobody else (without update rights) may.
        note(&mut agent, &[("body", "@?Cora Collaborator one more?")]).expect_done();
        let withdrawn = app.number("SELECT MAX(id) FROM requests");
        assert_eq!(
            cora_client
                .post_form(&format!("/requests/{withdrawn}/withdraw"), &[])
                .status,
            403
        );
        agent
            .post_form(&format!("/requests/{withdrawn}/withdraw"), &[])
            .expect_redirect(&format!("/conversations/{id}"));
        assert_eq!(
            app.count(&format!(
                "requests WHERE id = {withdrawn} AND state = 'withdrawn'"
            )),
            1
        );
        assert_eq!(
            app.count("conversations WHERE status = 'pending' AND assignee_id IS NULL"),
            1,
            "no question changed the conversation"
        );

        // Search finds conversations by their questions.
        let open = agent.get("/search?request=answered");
        assert_eq!(conversation_ids(&open.body), vec![id]);
        let none = agent.get("/search?request=open");
        assert!(conversation_ids(&none.body).is_empty());
        let of_cora = agent.get(&format!("/search?request=declined&asked={cora}"));
        assert_eq!(conversation_ids(&of_cora.body), vec![id]);
        let of_me = agent.get("/search?request=any&asked=me");
        assert!(conversation_ids(&of_me.body).is_empty());
    }
);

db_test!(requests_through_the_api, |app| {
    let app = app.with_org();
    let support = app.staff();
    let other_team = app.team("Billing");
    let carl = app.customer("Carl Customer", "carl@customer.test");
    let id = app.conversation("Migration", carl, Some(support), None, "open");
    let hidden = app.conversation("Elsewhere", carl, Some(other_team), None, "open");
    // Dana sees her team's conversations only.
    let cora = app
        .user("dana@partner.test", "Dana Expert")
        .collaborator()
        .teams_only()
        .in_team(support)
        .create();
    let agent_token = app.api_token("agent@acme.test");
    let cora_token = app.api_token("dana@partner.test");
    let mut c = app.client();
    let mut call = |method: &str, path: &str, token: &str, body: Option<serde_json::Value>| {
        c.api(method, path, Some(token), body.as_ref(), &[])
    };

    let past = (app.clock.now() - Duration::hours(1))
        .and_utc()
        .to_rfc3339();
    let bad = call(
        "POST",
        &format!("/api/v1/conversations/{id}/requests"),
        &agent_token,
        Some(json!({ "asked_of": cora, "question": "When?", "due_at": past })),
    );
    assert_eq!(bad.status, 422, "{}", bad.body);
    let nobody = call(
        "POST",
        &format!("/api/v1/conversations/{id}/requests"),
        &agent_token,
        Some(json!({ "asked_of": 999_999, "question": "When?" })),
    );
    assert_eq!(nobody.status, 409, "{}", nobody.body);
    assert_eq!(
        app.count("messages"),
        0,
        "a refused question writes no note"
    );

    let due = (app.clock.now() + Duration::days(1)).and_utc().to_rfc3339();
    let created = call(
        "POST",
        &format!("/api/v1/conversations/{id}/requests"),
        &agent_token,
        Some(json!({ "asked_of": cora, "question": "Which plan are they on?", "due_at": due })),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let request = created.json()["id"].as_i64().unwrap();
    assert_eq!(
        created.header("Location"),
        Some(format!("/api/v1/requests/{request}").as_str())
    );
    assert_eq!(created.json()["state"], "open");
    assert_eq!(created.json()["asked_of_name"], "Dana Expert");
    assert_eq!(created.json()["question"], "Which plan are they on?");
    assert_eq!(created.json()["overdue"], false);

    let mine = call(
        "GET",
        "/api/v1/requests?asked_of=me&state=open",
        &cora_token,
        None,
    );
    assert_eq!(mine.status, 200);
    let ids: Vec<i64> = mine.json()["data"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, vec![request]);
    let none = call("GET", "/api/v1/requests?state=answered", &cora_token, None);
    assert!(none.json()["data"].as_array().unwrap().is_empty());
    assert_eq!(
        call("GET", "/api/v1/requests?state=later", &cora_token, None).status,
        400
    );

    // Only the person asked answers; one way at a time.
    let not_asked = call(
        "POST",
        &format!("/api/v1/requests/{request}/answer"),
        &agent_token,
        Some(json!({ "body": "Pro" })),
    );
    assert_eq!(not_asked.status, 403);
    let both = call(
        "POST",
        &format!("/api/v1/requests/{request}/answer"),
        &cora_token,
        Some(json!({ "body": "Pro", "message_id": 1 })),
    );
    assert_eq!(both.status, 422);
    let answered = call(
        "POST",
        &format!("/api/v1/requests/{request}/answer"),
        &cora_token,
        Some(json!({ "body": "The Pro plan, yearly." })),
    );
    assert_eq!(answered.status, 200, "{}", answered.body);
    assert_eq!(answered.json()["state"], "answered");
    let answer_id = answered.json()["answer_message_id"].as_i64().unwrap();
    assert_eq!(
        app.count(&format!(
            "messages WHERE id = {answer_id} AND body = 'The Pro plan, yearly.'"
        )),
        1
    );
    let again = call(
        "POST",
        &format!("/api/v1/requests/{request}/decline"),
        &cora_token,
        Some(json!({ "reason": "late" })),
    );
    assert_eq!(again.status, 409, "{}", again.body);

    // A question in a conversation she cannot see does not exist for her.
    let hidden_request = call(
        "POST",
        &format!("/api/v1/conversations/{hidden}/requests"),
        &agent_token,
        Some(json!({ "asked_of": app.user_id("manager@acme.test"), "question": "?" })),
    );
    assert_eq!(hidden_request.status, 201, "{}", hidden_request.body);
    let hidden_id = hidden_request.json()["id"].as_i64().unwrap();
    assert_eq!(
        call(
            "GET",
            &format!("/api/v1/requests/{hidden_id}"),
            &cora_token,
            None
        )
        .status,
        404
    );
    let all_for_cora = call("GET", "/api/v1/requests", &cora_token, None);
    assert_eq!(all_for_cora.json()["data"].as_array().unwrap().len(), 1);

    // Withdrawn by the asker.
    let withdrawn = call(
        "POST",
        &format!("/api/v1/requests/{hidden_id}/withdraw"),
        &agent_token,
        None,
    );
    assert_eq!(withdrawn.status, 200, "{}", withdrawn.body);
    assert_eq!(withdrawn.json()["state"], "withdrawn");
});
