//! What keeps pages flat at any size, checked for what users see: view
//! counts that stay exact through every kind of change, HTML stored when
//! text is written (and filled in when missing), and search pages that
//! never repeat a conversation.

use crate::db_test;
use crate::support::*;

/// The inbox tabs' numbers for this client, by view key.
fn tab_counts(client: &mut Client) -> Vec<(String, i64)> {
    let page = client.get("/conversations?view=all");
    assert_eq!(page.status, 200);
    page.body
        .split("<span class=\"count\" data-view=\"")
        .skip(1)
        .map(|part| {
            let (key, rest) = part.split_once("\">").expect("a count");
            let number = rest.split('<').next().expect("a number");
            (key.to_string(), number.parse().expect("a whole number"))
        })
        .collect()
}

/// The counts the tabs must show, counted row by row in the database.
fn counted(app: &TestApp, owner: i64, billing: i64) -> Vec<(String, i64)> {
    vec![
        (
            "asked".into(),
            app.count(&format!(
                "requests WHERE asked_of = {owner} AND state = 'open'"
            )),
        ),
        (
            "mine".into(),
            app.count(&format!(
                "conversations WHERE assignee_id = {owner} AND status <> 'done' AND folder IS NULL"
            )),
        ),
        (
            "unassigned".into(),
            app.count(
                "conversations WHERE assignee_id IS NULL AND status <> 'done' AND folder IS NULL",
            ),
        ),
        (
            "teams".into(),
            app.count(&format!(
                "conversations WHERE team_id = {billing} AND status <> 'done' AND folder IS NULL"
            )),
        ),
        (
            "all".into(),
            app.count("conversations WHERE status <> 'done' AND folder IS NULL"),
        ),
        ("mentions".into(), 0),
        (
            "done".into(),
            app.count("conversations WHERE status = 'done' AND folder IS NULL"),
        ),
        (
            "trash".into(),
            app.count("conversations WHERE folder = 'trash'"),
        ),
        (
            "spam".into(),
            app.count("conversations WHERE folder = 'spam'"),
        ),
    ]
}

db_test!(view_counts_stay_exact_through_every_kind_of_change, |app| {
    let app = app.with_org();
    let support = app.team("Support");
    let billing = app.team("Billing");
    let owner = app.user_id("owner@acme.test");
    app.sql(&format!(
        "INSERT INTO team_memberships (team_id, user_id) VALUES ({billing}, {owner})"
    ));
    let carl = app.customer("Carl Customer", "carl@customer.test");
    let mut ids = Vec::new();
    for (i, status) in ["open", "pending", "snoozed", "done"]
        .iter()
        .cycle()
        .take(12)
        .enumerate()
    {
        let team = [Some(support), Some(billing), None][i % 3];
        let assignee = (i % 2 == 0).then_some(owner);
        ids.push(app.conversation(&format!("Question {i}"), carl, team, assignee, status));
    }
    let mut client = app.sign_in("owner@acme.test");
    assert_eq!(tab_counts(&mut client), counted(&app, owner, billing));

    // Through the page: one conversation's properties.
    client
        .post_form(
            &format!("/conversations/{}/properties", ids[1]),
            &[
                ("status", "done"),
                ("snoozed_until", ""),
                ("priority", "high"),
                ("assignee", &owner.to_string()),
                ("team", &billing.to_string()),
                ("tags", ""),
            ],
        )
        .expect_done();
    assert_eq!(tab_counts(&mut client), counted(&app, owner, billing));

    // Through a bulk action on several at once.
    let bulk = client.post_form(
        "/conversations/bulk",
        &[
            ("action", "assign"),
            ("assignee", &owner.to_string()),
            ("ids", &ids[3].to_string()),
            ("ids", &ids[5].to_string()),
            ("ids", &ids[7].to_string()),
            ("view", "all"),
        ],
    );
    assert_eq!(bulk.status, 303);
    assert_eq!(tab_counts(&mut client), counted(&app, owner, billing));

    // To Trash and Spam and back, a done one among them.
    for (id, to) in [(ids[2], "trash"), (ids[3], "spam"), (ids[4], "trash")] {
        client
            .post_form(&format!("/conversations/{id}/move"), &[("to", to)])
            .expect_done();
    }
    assert_eq!(tab_counts(&mut client), counted(&app, owner, billing));
    client
        .post_form(
            &format!("/conversations/{}/move", ids[4]),
            &[("to", "inbox")],
        )
        .expect_done();
    assert_eq!(tab_counts(&mut client), counted(&app, owner, billing));

    // Whatever else writes: statements that move many rows, and deletes.
    app.sql(&format!(
        "UPDATE conversations SET team_id = {billing}, assignee_id = NULL WHERE team_id = {support}"
    ));
    app.sql("UPDATE conversations SET status = 'open' WHERE status = 'done'");
    app.sql(&format!("DELETE FROM conversations WHERE id = {}", ids[0]));
    let expected = counted(&app, owner, billing);
    assert_eq!(tab_counts(&mut client), expected);
    assert_eq!(expected[4], ("all".to_string(), 9), "the data really moved");
    assert_eq!(
        expected[7..],
        [("trash".to_string(), 1), ("spam".to_string(), 1)]
    );
});

db_test!(
    text_is_stored_as_html_when_written_and_filled_in_when_missing,
    |app| {
        let app = app.with_org();
        let carl = app.customer("Carl Customer", "carl@customer.test");
        let id = app.conversation("Printer", carl, None, None, "open");
        let mut owner = app.sign_in("owner@acme.test");
        owner
            .post_form(
                &format!("/conversations/{id}/notes"),
                &[("body", "The **fuser** <script>alert(1)</script> is hot.")],
            )
            .expect_done();
        assert_eq!(
            app.count(
                "messages WHERE body_html LIKE '%<strong>fuser</strong>%' \
             AND body_html NOT LIKE '%<script%'"
            ),
            1,
            "the note's sanitized HTML is stored with it"
        );

        // A row without stored HTML (written by an older version) still shows
        // rendered, and the server fills it in.
        app.sql("UPDATE messages SET body = 'Now *emphasised*', body_html = NULL");
        let page = owner.get(&format!("/conversations/{id}"));
        assert!(page.body.contains("Now <em>emphasised</em>"));
        assert_eq!(
            confer::markdown::fill_missing(&app.state.pool).expect("filled"),
            1
        );
        assert_eq!(
            app.count("messages WHERE body_html LIKE '%<em>emphasised</em>%'"),
            1
        );

        // A new rendering policy clears what the old one stored.
        app.sql("UPDATE markup_version SET version = 0");
        assert!(confer::markdown::check_version(&mut app.conn()).expect("checked"));
        assert_eq!(app.count("messages WHERE body_html IS NULL"), 1);
        assert!(!confer::markdown::check_version(&mut app.conn()).expect("checked"));
        confer::markdown::fill_missing(&app.state.pool).expect("filled");
        assert_eq!(app.count("messages WHERE body_html IS NULL"), 0);
    }
);

/// Conversation ids linked from a page of search results, in order.
/// Every conversation id `/api/v1/search` returns for `q`, following its
/// cursor `limit` at a time (at most 100 pages).
fn api_search(client: &mut Client, token: &str, q: &str, limit: usize) -> Vec<i64> {
    let (mut found, mut cursor) = (Vec::new(), None::<String>);
    for _ in 0..100 {
        let mut path = format!("/api/v1/search?q={q}&limit={limit}");
        if let Some(c) = &cursor {
            path.push_str(&format!("&cursor={c}"));
        }
        let page = client.api("GET", &path, Some(token), None, &[]);
        assert_eq!(page.status, 200, "{}", page.body);
        let json = page.json();
        for c in json["conversations"].as_array().expect("conversations") {
            found.push(c["id"].as_i64().expect("an id"));
        }
        match json["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_string()),
            None => break,
        }
    }
    found
}

db_test!(search_pages_never_repeat_a_conversation, |app| {
    let app = app.with_org();
    let support = app.team("Support");
    let billing = app.team("Billing");
    app.user("agent@acme.test", "Alan Agent")
        .in_team(support)
        .teams_only()
        .create();
    let carl = app.customer("Carl Customer", "carl@customer.test");
    let mut ours = Vec::new();
    for i in 0..60 {
        ours.push(app.conversation(
            &format!("Zebra crossing {i}"),
            carl,
            Some(support),
            None,
            "open",
        ));
    }
    let hidden = app.conversation("Zebra in billing", carl, Some(billing), None, "open");
    // A match in a note too: its conversation is found once, however many match.
    let mut owner = app.sign_in("owner@acme.test");
    owner
        .post_form(
            &format!("/conversations/{}/notes", ours[10]),
            &[("body", "Another zebra, striped.")],
        )
        .expect_done();

    let mut alan = app.sign_in("agent@acme.test");
    for sort in ["newest", "relevance"] {
        let first = alan.get(&format!("/search?q=zebra&sort={sort}"));
        assert_eq!(first.status, 200);
        let mut seen = crate::support::conversation_ids(&first.body);
        assert_eq!(seen.len(), 50, "a page of 50 ({sort})");
        let next = first
            .body
            .split("rel=\"next\"")
            .next()
            .and_then(|s| s.rsplit("href=\"").next())
            .and_then(|s| s.split('"').next())
            .expect("a next link")
            .replace("&amp;", "&")
            .replace("&#38;", "&");
        assert!(next.starts_with("/search?q=zebra"), "{next}");
        let second = alan.get(&next);
        let rest = crate::support::conversation_ids(&second.body);
        assert_eq!(rest.len(), 10, "the rest ({sort}) from {next}");
        assert!(
            !second.body.contains("rel=\"next\""),
            "no page after the last"
        );
        seen.extend(rest);
        let mut distinct = seen.clone();
        distinct.sort();
        distinct.dedup();
        assert_eq!(distinct.len(), 60, "every conversation once ({sort})");
        assert!(!seen.contains(&hidden), "never another team's");
    }
    let newest = crate::support::conversation_ids(&alan.get("/search?q=zebra").body);
    assert_eq!(newest[0], ours[10], "the newest match (the note) first");

    // The API pages the same way, with its cursor.
    let token = app.api_token("agent@acme.test");
    let mut found = api_search(&mut app.client(), &token, "zebra", 25);
    found.sort();
    found.dedup();
    assert_eq!(found.len(), 60);
    let bad = app.client().api(
        "GET",
        "/api/v1/search?q=zebra&sort=random",
        Some(&token),
        None,
        &[],
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["code"], "invalid_sort");
});

db_test!(search_finds_matches_newest_first_however_far_apart, |app| {
    let app = app.with_org();
    let carl = app.customer("Carl Customer", "carl@customer.test");
    let mut owner = app.sign_in("owner@acme.test");
    let mut noted = |subject: &str, note: &str| {
        let id = app.conversation(subject, carl, None, None, "open");
        owner
            .post_form(&format!("/conversations/{id}/notes"), &[("body", note)])
            .expect_done();
        id
    };
    // On PostgreSQL matches are read in windows of message ids: gaps in
    // the ids put each match in a different window, the last below all.
    let gap = |to: i64| {
        if app.backend == Backend::Postgres {
            app.sql(&format!("SELECT setval('messages_id_seq', {to})"));
        }
    };
    let silent = app.conversation("Quokka without messages", carl, None, None, "open");
    let old = noted("Old order", "The quokka escaped.");
    gap(100_000);
    let middle = noted("Middle order", "A quokka again.");
    gap(200_000);
    let by_subject = noted("Quokka sighting", "Nothing to find in here.");
    noted("Unrelated", "Nothing here either.");
    let newest_first = vec![by_subject, middle, old, silent];

    let page = owner.get("/search?q=quokka");
    assert_eq!(page.status, 200);
    assert_eq!(crate::support::conversation_ids(&page.body), newest_first);
    let ranked = owner.get("/search?q=quokka&sort=relevance");
    let mut ranked = crate::support::conversation_ids(&ranked.body);
    ranked.sort();
    let mut expected = newest_first.clone();
    expected.sort();
    assert_eq!(ranked, expected, "relevance finds the same conversations");
    // Both words, quoted or not, in one message.
    let both = owner.get("/search?q=%22quokka+escaped%22");
    assert_eq!(crate::support::conversation_ids(&both.body), vec![old]);
    // One at a time through the API: each page goes on below the last.
    let token = app.api_token("owner@acme.test");
    let found = api_search(&mut app.client(), &token, "quokka", 1);
    assert_eq!(found, newest_first);
    if app.backend == Backend::Postgres {
        // PostgreSQL reads quotes as a phrase, `-` as "without" and `or`
        // as either; each window checks the words in their order.
        let reversed = owner.get("/search?q=%22escaped+quokka%22");
        assert_eq!(
            crate::support::conversation_ids(&reversed.body),
            Vec::<i64>::new()
        );
        let without = owner.get("/search?q=quokka+-escaped");
        assert_eq!(
            crate::support::conversation_ids(&without.body),
            vec![by_subject, middle, silent]
        );
        let either = owner.get("/search?q=escaped+or+sighting");
        assert_eq!(
            crate::support::conversation_ids(&either.body),
            vec![by_subject, old]
        );
        // The newest window finds both words in a message; the phrase, in
        // the other order, is not there.
        let returned = app.conversation("Returned", carl, None, None, "open");
        app.sign_in("owner@acme.test")
            .post_form(
                &format!("/conversations/{returned}/notes"),
                &[("body", "The escaped quokka came back.")],
            )
            .expect_done();
        let phrase = owner.get("/search?q=%22quokka+escaped%22");
        assert_eq!(crate::support::conversation_ids(&phrase.body), vec![old]);
        let reversed = owner.get("/search?q=%22escaped+quokka%22");
        assert_eq!(
            crate::support::conversation_ids(&reversed.body),
            vec![returned]
        );
    }
});

db_test!(the_pickers_follow_every_change_whoever_writes_it, |app| {
    // The team and assignee pickers are kept in the node's memory; a change
    // written anywhere (here straight into the database, as another node
    // or a script would) shows on the next page.
    let app = app.with_org();
    let support = app.staff();
    let carl = app.customer_with_phone();
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let alan = app.user_id("agent@acme.test");
    let mut owner = app.sign_in("owner@acme.test");
    let version = || app.number("SELECT directory_version FROM org_settings");
    let page = owner.get(&format!("/conversations/{id}"));
    assert!(page.body.contains(&format!(
        "<option value=\"{support}\" selected>Support</option>"
    )));
    assert!(
        page.body
            .contains(&format!("<option value=\"{alan}\">Alan Agent</option>"))
    );

    let before = version();
    app.sql(&format!(
        "UPDATE teams SET name = 'Customer Care' WHERE id = {support}"
    ));
    assert!(version() > before, "a team's new name bumps the version");
    let page = owner.get(&format!("/conversations/{id}"));
    assert!(page.body.contains(&format!(
        "<option value=\"{support}\" selected>Customer Care</option>"
    )));
    let inbox = owner.get("/conversations?view=all");
    assert!(inbox.body.contains(&format!(
        "<option value=\"{support}\">Customer Care</option>"
    )));

    app.sql(&format!(
        "UPDATE users SET active = FALSE WHERE id = {alan}"
    ));
    let page = owner.get(&format!("/conversations/{id}"));
    assert!(
        !page.body.contains("Alan Agent</option>"),
        "a deactivated user is no choice"
    );
    let inbox = owner.get("/conversations?view=all");
    assert!(!inbox.body.contains("Alan Agent</option>"));

    let nora = app.user("nora@acme.test", "Nora New").create();
    let page = owner.get(&format!("/conversations/{id}"));
    assert!(
        page.body
            .contains(&format!("<option value=\"{nora}\">Nora New</option>"))
    );
    let search = owner.get("/search?q=printer");
    assert!(
        search
            .body
            .contains(&format!("<option value=\"{nora}\">Nora New</option>"))
    );

    // What does not change the pickers leaves the version alone.
    let before = version();
    app.sql(&format!(
        "UPDATE users SET last_active_at = '2026-12-01 10:00:00' WHERE id = {nora}"
    ));
    assert_eq!(version(), before);
});

db_test!(
    a_kept_thread_follows_every_change_whoever_writes_it,
    |app| {
        // Each node keeps the threads it rendered; a change written anywhere
        // (here straight into the database, as another node, the mail worker
        // or a script would) shows on the next view.
        let app = app.with_org();
        let support = app.staff();
        let carl = app.customer("Carl Customer", "carl@customer.test");
        let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
        app.sql(&format!(
        "INSERT INTO messages (conversation_id, kind, author_customer_id, body, created_at, source) \
         VALUES ({id}, 'customer', {carl}, 'It smokes.', '2026-03-05 10:07:00', 'web')"
    ));
        app.sql("UPDATE users SET timezone = 'UTC' WHERE email = 'agent@acme.test'");
        let mut agent = app.sign_in("agent@acme.test");
        let page = |agent: &mut Client| agent.get(&format!("/conversations/{id}")).body;
        assert!(page(&mut agent).contains("It smokes."));
        agent
            .post_form(
                &format!("/conversations/{id}/reply"),
                &[("body", "Please step away from it.")],
            )
            .expect_done();
        let shown = page(&mut agent);
        assert!(
            shown.contains("Please step away from it.")
                && !shown.contains("Could not be delivered")
        );

        // The reply's email fails (the mail worker, maybe on another node).
        app.sql("UPDATE outbox SET status = 'failed', last_error = '550 mailbox unavailable'");
        assert!(page(&mut agent).contains("Could not be delivered: 550 mailbox unavailable"));

        // A new message, an edited one, a deleted one.
        app.sql(&format!(
        "INSERT INTO messages (conversation_id, kind, author_customer_id, body, created_at, source) \
         VALUES ({id}, 'customer', {carl}, 'Now it is on fire!', '2026-03-05 10:09:00', 'web')"
    ));
        assert!(page(&mut agent).contains("Now it is on fire!"));
        app.sql("UPDATE messages SET body = 'It smokes a lot.', body_html = '<p>It smokes a lot.</p>' WHERE body = 'It smokes.'");
        assert!(page(&mut agent).contains("It smokes a lot."));
        app.sql("DELETE FROM messages WHERE body = 'Now it is on fire!'");
        assert!(!page(&mut agent).contains("Now it is on fire!"));

        // Authors renamed: the customer, and the agent who replied.
        app.sql(&format!(
            "UPDATE customers SET name = 'Carla Customer' WHERE id = {carl}"
        ));
        app.sql("UPDATE users SET name = 'Alan Answer' WHERE email = 'agent@acme.test'");
        let shown = page(&mut agent);
        assert!(
            shown.contains("<strong>Carla Customer</strong>"),
            "the customer's new name"
        );
        assert!(
            shown.contains("<strong>Alan Answer</strong>"),
            "the agent's new name"
        );

        // Another reader's language and timezone get their own thread.
        app.sql(
            "UPDATE users SET language = 'de', timezone = 'America/New_York' \
         WHERE email = 'manager@acme.test'",
        );
        let german = app
            .sign_in("manager@acme.test")
            .get(&format!("/conversations/{id}"))
            .body;
        assert!(
            german.contains("05. März 2026, 05:07"),
            "New York time, in German"
        );
        assert!(
            page(&mut agent).contains("05 Mar 2026, 10:07"),
            "the agent's stays UTC"
        );
    }
);
