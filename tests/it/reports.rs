//! Reports against a small data set computed by hand: per-day counts,
//! first-response and resolution medians and 90th percentiles (nearest
//! rank), backlog, per-agent, per-team and collaborator tables, the team
//! filter, CSV exports, and who may see any of it.

use crate::db_test;
use crate::support::*;

/// A conversation: created, status, closed, team, assignee.
type Row<'a> = (&'a str, &'a str, Option<&'a str>, Option<i64>, Option<i64>);

/// Seven conversations around 1–7 January 2026 (see the comments for the
/// numbers each one contributes). Returns the Support team's id.
fn data(app: &TestApp) -> i64 {
    let support = app.staff();
    let billing = app.team("Billing");
    let carl = app.customer_with_phone();
    let alan = app.user_id("agent@acme.test");
    let owner = app.user_id("owner@acme.test");
    let cora = app.user_id("collab@acme.test");
    let rows: [Row; 7] = [
        (
            "2026-01-01 09:00:00",
            "done",
            Some("2026-01-01 10:00:00"),
            Some(support),
            Some(alan),
        ), // c1: resolution 3600
        (
            "2026-01-01 12:00:00",
            "done",
            Some("2026-01-02 12:00:00"),
            Some(support),
            Some(alan),
        ), // c2: 86400
        ("2026-01-03 08:00:00", "open", None, Some(billing), None), // c3
        (
            "2026-01-05 00:00:00",
            "done",
            Some("2026-01-05 00:05:00"),
            Some(billing),
            None,
        ), // c4: 300
        (
            "2026-01-06 23:59:00",
            "pending",
            None,
            Some(support),
            Some(alan),
        ), // c5
        (
            "2025-12-31 23:00:00",
            "done",
            Some("2026-01-02 01:00:00"),
            Some(support),
            Some(alan),
        ), // c6: 93600, opened before
        ("2026-01-08 10:00:00", "open", None, None, None),          // c7: after
    ];
    let mut ids = Vec::new();
    for (n, (created, status, closed, team, assignee)) in rows.iter().enumerate() {
        let id = app.conversation(&format!("c{}", n + 1), carl, *team, *assignee, status);
        app.sql(&format!(
            "UPDATE conversations SET created_at = '{created}', updated_at = '{created}', last_activity_at = '{created}', closed_at = {} WHERE id = {id}",
            closed.map(|c| format!("'{c}'")).unwrap_or("NULL".into())
        ));
        ids.push(id);
    }
    // (conversation, kind, author, at): first replies 600, 1800, 7200 and 60 s.
    let messages = [
        (ids[0], "note", alan, "2026-01-01 09:05:00"),
        (ids[0], "reply", alan, "2026-01-01 09:10:00"),
        (ids[1], "reply", alan, "2026-01-01 12:30:00"),
        (ids[2], "reply", alan, "2026-01-03 10:00:00"),
        (ids[3], "reply", owner, "2026-01-05 00:01:00"),
        (ids[3], "reply", owner, "2026-01-05 00:03:00"),
        (ids[5], "reply", alan, "2025-12-31 23:30:00"),
        (ids[0], "note", cora, "2026-01-01 11:00:00"),
        (ids[2], "note", cora, "2026-01-04 11:00:00"),
        (ids[2], "note", cora, "2026-01-09 11:00:00"),
    ];
    for (conversation, kind, author, at) in messages {
        app.sql(&format!(
            "INSERT INTO messages (conversation_id, kind, author_user_id, body, created_at) VALUES ({conversation}, '{kind}', {author}, 'x', '{at}')"
        ));
    }
    app.sql(&format!(
        "INSERT INTO notifications (user_id, kind, conversation_id, actor_id, created_at) VALUES ({alan}, 'mention', {}, {cora}, '2026-01-04 11:00:00')",
        ids[2]
    ));
    support
}

fn range(team: Option<i64>) -> confer::reports::Range {
    confer::reports::Range {
        from: chrono::NaiveDate::from_ymd_opt(2026, 1, 1).unwrap(),
        to: chrono::NaiveDate::from_ymd_opt(2026, 1, 7).unwrap(),
        team,
    }
}

db_test!(report_figures_match_a_hand_computed_data_set, |app| {
    let app = app.with_org();
    let support = data(&app);
    let mut conn = app.conn();
    let all = range(None);

    let per_day = confer::reports::per_day(&mut conn, &all).unwrap();
    let opened: Vec<i64> = per_day.iter().map(|d| d.1).collect();
    let closed: Vec<i64> = per_day.iter().map(|d| d.2).collect();
    assert_eq!(per_day.len(), 7);
    assert_eq!(opened, [2, 0, 1, 0, 1, 1, 0]);
    assert_eq!(closed, [1, 2, 0, 0, 1, 0, 0]);

    // First responses [60, 600, 1800, 7200]: median = rank 2, p90 = rank 4.
    let first = confer::reports::first_response(&mut conn, &all).unwrap();
    assert_eq!(
        (first.count, first.median, first.p90),
        (4, Some(600.0), Some(7200.0))
    );
    // Resolutions [300, 3600, 86400, 93600].
    let resolution = confer::reports::resolution(&mut conn, &all).unwrap();
    assert_eq!(
        (resolution.count, resolution.median, resolution.p90),
        (4, Some(3600.0), Some(93600.0))
    );

    let backlog = confer::reports::backlog(&mut conn, &all).unwrap();
    assert_eq!(
        backlog,
        [
            ("open".to_string(), 2),
            ("pending".to_string(), 1),
            ("snoozed".to_string(), 0),
            ("done".to_string(), 4)
        ]
    );

    let people = confer::reports::people(&mut conn, &all).unwrap();
    let agents = people.agents;
    let row = |name: &str| {
        agents
            .iter()
            .find(|r| r.name == name)
            .unwrap_or_else(|| panic!("{name}"))
            .clone()
    };
    let alan = row("Alan Agent");
    assert_eq!(
        (alan.replies, alan.notes, alan.closed, alan.open_assigned),
        (3, 1, 3, 1)
    );
    let owner = row("Olivia Owner");
    assert_eq!(
        (
            owner.replies,
            owner.notes,
            owner.closed,
            owner.open_assigned
        ),
        (2, 0, 0, 0)
    );
    assert!(agents.iter().all(|r| r.name != "Cora Collaborator"));

    let teams = confer::reports::per_team(&mut conn, &all).unwrap();
    let team = |name: &str| teams.iter().find(|r| r.name == name).unwrap().clone();
    assert_eq!(
        (
            team("Support").opened,
            team("Support").closed,
            team("Support").open_now
        ),
        (3, 3, 1)
    );
    assert_eq!(
        (
            team("Billing").opened,
            team("Billing").closed,
            team("Billing").open_now
        ),
        (2, 1, 1)
    );

    let collaborators = people.collaborators;
    assert_eq!(collaborators.len(), 1);
    assert_eq!(
        (
            collaborators[0].notes,
            collaborators[0].mentions,
            collaborators[0].conversations
        ),
        (2, 1, 2)
    );

    // The Support team alone: first responses [600, 1800], resolutions [3600, 86400, 93600].
    let only = range(Some(support));
    let first = confer::reports::first_response(&mut conn, &only).unwrap();
    assert_eq!(
        (first.count, first.median, first.p90),
        (2, Some(600.0), Some(1800.0))
    );
    let resolution = confer::reports::resolution(&mut conn, &only).unwrap();
    assert_eq!(
        (resolution.count, resolution.median, resolution.p90),
        (3, Some(86400.0), Some(93600.0))
    );
    let opened: i64 = confer::reports::per_day(&mut conn, &only)
        .unwrap()
        .iter()
        .map(|d| d.1)
        .sum();
    assert_eq!(opened, 3);
    let teams = confer::reports::per_team(&mut conn, &only).unwrap();
    assert_eq!(teams.len(), 1);
});

db_test!(the_reports_page_and_exports_show_the_same_figures, |app| {
    let app = app.with_org();
    let support = data(&app);
    let mut manager = app.sign_in("manager@acme.test");
    let page = manager.get("/reports?from=2026-01-01&to=2026-01-07");
    assert_eq!(page.status, 200);
    assert!(
        page.body.contains("<svg class=\"chart\""),
        "charts are inline SVG"
    );
    assert!(
        page.body
            .contains("<title id=\"daily-title\">Conversations opened and closed per day</title>")
    );
    // The days under the bars are written in the reader's language.
    assert!(page.body.contains("class=\"chart-label\">01 Jan</text>"));
    app.sql("UPDATE users SET language = 'de' WHERE email = 'manager@acme.test'");
    let german = manager.get("/reports?from=2026-01-01&to=2026-01-07");
    assert!(
        german
            .body
            .contains("class=\"chart-label\">01. Jan.</text>"),
        "{}",
        german.body
    );
    app.sql("UPDATE users SET language = 'es' WHERE email = 'manager@acme.test'");
    let spanish = manager.get("/reports?from=2026-01-01&to=2026-01-07");
    assert!(spanish.body.contains("class=\"chart-label\">01 ene</text>"));
    app.sql("UPDATE users SET language = NULL WHERE email = 'manager@acme.test'");
    assert!(
        page.body
            .contains("5 opened and 4 closed from 2026-01-01 to 2026-01-07.")
    );
    assert!(
        page.body
            .contains("<tr><th scope=\"row\">2026-01-01</th><td>2</td><td>1</td></tr>")
    );
    assert!(page.body.contains("<tr><th scope=\"row\">First response</th><td>4</td><td>10 min</td><td>2 h 0 min</td></tr>"), "{}", page.body);
    assert!(page.body.contains(
        "<tr><th scope=\"row\">Resolution</th><td>4</td><td>1 h 0 min</td><td>1 d 2 h</td></tr>"
    ));
    assert!(page.body.contains(
        "<tr><th scope=\"row\">Cora Collaborator</th><td>2</td><td>1</td><td>2</td></tr>"
    ));

    let csv = manager.get("/reports/times.csv?from=2026-01-01&to=2026-01-07");
    assert_eq!(csv.status, 200);
    assert_eq!(csv.header("content-type"), Some("text/csv; charset=utf-8"));
    assert_eq!(
        csv.body.replace("\r\n", "\n"),
        "measure,conversations,median_seconds,p90_seconds\nfirst_response,4,600,7200\nresolution,4,3600,93600\n"
    );
    let daily = manager
        .get("/reports/daily.csv?from=2026-01-01&to=2026-01-03")
        .body;
    assert_eq!(
        daily.replace("\r\n", "\n"),
        "day,opened,closed\n2026-01-01,2,1\n2026-01-02,0,2\n2026-01-03,1,0\n"
    );
    let agents = manager
        .get(&format!(
            "/reports/agents.csv?from=2026-01-01&to=2026-01-07&team={support}"
        ))
        .body;
    assert!(agents.contains("Alan Agent,2,1,3,1"), "{agents}");
    for table in ["backlog", "teams", "collaborators"] {
        assert_eq!(
            manager.get(&format!("/reports/{table}.csv")).status,
            200,
            "{table}"
        );
    }
    assert_eq!(manager.get("/reports/secrets.csv").status, 404);

    // Bad dates: a message on the page, never a 500.
    let bad = manager.get("/reports?from=2026-02-30&to=2026-01-07");
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("Enter a date like 2026-11-01.")
            && bad.body.contains("value=\"2026-02-30\"")
    );
    let reversed = manager.get("/reports?from=2026-01-07&to=2026-01-01");
    assert!(
        reversed
            .body
            .contains("The start must not be after the end.")
    );
    manager
        .get("/reports/daily.csv?from=nope")
        .expect_redirect("/reports");
});

db_test!(collaborators_and_agents_get_no_reports, |app| {
    let app = app.with_org();
    data(&app);
    for email in ["collab@acme.test", "agent@acme.test"] {
        let mut client = app.sign_in(email);
        assert!(
            !client.get("/").body.contains("href=\"/reports\""),
            "no nav entry for {email}"
        );
        assert_eq!(client.get("/reports").status, 403, "{email}");
        for table in [
            "daily",
            "times",
            "backlog",
            "agents",
            "teams",
            "collaborators",
        ] {
            assert_eq!(
                client.get(&format!("/reports/{table}.csv")).status,
                403,
                "{email} {table}"
            );
        }
    }
    assert!(
        app.sign_in("manager@acme.test")
            .get("/")
            .body
            .contains("href=\"/reports\"")
    );
});

/// How many rollup rows differ from the same sums computed from the
/// conversations and messages themselves (rows summing to zero aside),
/// and how many conversations' first reply is not their earliest reply.
fn rollup_drift(app: &TestApp) -> [(&'static str, i64); 5] {
    let day = |column: &str| match app.backend {
        Backend::Sqlite => format!("strftime('%Y-%m-%d', {column})"),
        Backend::Postgres => format!("CAST({column} AS DATE)"),
    };
    let differ = |stored: &str, computed: &str| {
        app.count(&format!("({stored} EXCEPT SELECT * FROM ({computed}) c) a"))
            + app.count(&format!("(SELECT * FROM ({computed}) c EXCEPT {stored}) b"))
    };
    let days = differ(
        "SELECT day, team_key, assignee_key, opened, closed FROM report_days \
         WHERE opened <> 0 OR closed <> 0",
        &format!(
            "SELECT day, team_key, assignee_key, SUM(opened), SUM(closed) FROM ( \
             SELECT {created} AS day, COALESCE(team_id, 0) AS team_key, \
             COALESCE(assignee_id, 0) AS assignee_key, 1 AS opened, 0 AS closed FROM conversations \
             UNION ALL SELECT {closed}, COALESCE(team_id, 0), COALESCE(assignee_id, 0), 0, 1 \
             FROM conversations WHERE status = 'done' AND closed_at IS NOT NULL) d GROUP BY 1, 2, 3",
            created = day("created_at"),
            closed = day("closed_at"),
        ),
    );
    let durations = differ(
        "SELECT measure, day, team_key, bucket, n FROM report_durations WHERE n <> 0",
        &format!(
            "SELECT 'first_response', {created}, COALESCE(team_id, 0), first_response_bucket, COUNT(*) \
             FROM conversations WHERE first_response_bucket IS NOT NULL GROUP BY 2, 3, 4 \
             UNION ALL SELECT 'resolution', {closed}, COALESCE(team_id, 0), resolution_bucket, COUNT(*) \
             FROM conversations WHERE resolution_bucket IS NOT NULL GROUP BY 2, 3, 4",
            created = day("created_at"),
            closed = day("closed_at"),
        ),
    );
    let values = differ(
        "SELECT measure, bucket, day, team_key, seconds, n FROM report_duration_values WHERE n <> 0",
        &format!(
            "SELECT 'first_response', first_response_bucket, {created}, COALESCE(team_id, 0), \
             first_response_seconds, COUNT(*) FROM conversations \
             WHERE first_response_bucket IS NOT NULL GROUP BY 2, 3, 4, 5 \
             UNION ALL SELECT 'resolution', resolution_bucket, {closed}, COALESCE(team_id, 0), \
             resolution_seconds, COUNT(*) FROM conversations \
             WHERE resolution_bucket IS NOT NULL GROUP BY 2, 3, 4, 5",
            created = day("created_at"),
            closed = day("closed_at"),
        ),
    );
    let messages = differ(
        "SELECT day, team_key, author_id, replies, notes FROM report_messages \
         WHERE replies <> 0 OR notes <> 0",
        &format!(
            "SELECT {created}, COALESCE(c.team_id, 0), m.author_user_id, \
             SUM(CASE WHEN m.kind = 'reply' THEN 1 ELSE 0 END), \
             SUM(CASE WHEN m.kind = 'note' THEN 1 ELSE 0 END) \
             FROM messages m JOIN conversations c ON c.id = m.conversation_id \
             WHERE m.kind IN ('reply', 'note') AND m.author_user_id IS NOT NULL GROUP BY 1, 2, 3",
            created = day("m.created_at"),
        ),
    );
    let first_replies = app.count(
        "conversations c WHERE c.first_reply_at IS DISTINCT FROM \
         (SELECT MIN(m.created_at) FROM messages m WHERE m.conversation_id = c.id AND m.kind = 'reply')",
    );
    [
        ("report_days", days),
        ("report_durations", durations),
        ("report_duration_values", values),
        ("report_messages", messages),
        ("first replies", first_replies),
    ]
}

db_test!(rollups_stay_equal_to_their_rows_whatever_writes, |app| {
    let app = app.with_org();
    let support = data(&app);
    let alan = app.user_id("agent@acme.test");
    for (rollup, drift) in rollup_drift(&app) {
        assert_eq!(drift, 0, "{rollup} drifted");
    }
    for statement in [
        // Moves between teams, assignees and statuses, one and many at once.
        "UPDATE conversations SET team_id = NULL WHERE subject = 'c1'".into(),
        format!("UPDATE conversations SET team_id = {support} WHERE team_id IS NULL"),
        "UPDATE conversations SET assignee_id = NULL, status = 'open', closed_at = NULL WHERE subject = 'c2'".into(),
        format!("UPDATE conversations SET status = 'done', closed_at = '2026-01-03 04:05:06', assignee_id = {alan} WHERE subject IN ('c3', 'c5')"),
        "UPDATE conversations SET created_at = '2025-12-20 00:00:00' WHERE subject = 'c4'".into(),
        // The first reply goes, then an earlier one arrives, then one moves.
        "DELETE FROM messages WHERE kind = 'reply' AND created_at = '2026-01-01 09:10:00'".into(),
        format!(
            "INSERT INTO messages (conversation_id, kind, author_user_id, body, created_at) \
             SELECT id, 'reply', {alan}, 'early', '2026-01-01 09:01:00' FROM conversations WHERE subject = 'c1'"
        ),
        "UPDATE messages SET conversation_id = (SELECT id FROM conversations WHERE subject = 'c7') \
         WHERE body = 'early'"
            .into(),
        "UPDATE messages SET body_html = '<p>x</p>'".into(),
        // A team goes (its conversations move), then a conversation goes.
        format!("UPDATE conversations SET team_id = NULL WHERE team_id = {support}"),
        "DELETE FROM conversations WHERE subject = 'c3'".into(),
    ] {
        app.sql(&statement);
        for (rollup, drift) in rollup_drift(&app) {
            assert_eq!(drift, 0, "{rollup} drifted after {statement}");
        }
    }
    // And the report says what the rows say: of the conversations opened in
    // the range, c1 lost its replies (the early one moved to c7), c3 is
    // gone, c4 now opened before it, c5 never got one: c2's 1,800 s remain.
    let mut conn = app.conn();
    let first = confer::reports::first_response(&mut conn, &range(None)).unwrap();
    assert_eq!(
        (first.count, first.median, first.p90),
        (1, Some(1800.0), Some(1800.0))
    );
});

db_test!(percentiles_are_exact_however_the_durations_spread, |app| {
    use chrono::{Duration, NaiveDate};
    let app = app.with_org();
    let support = app.staff();
    let billing = app.team("Billing");
    let carl = app.customer_with_phone();
    let alan = app.user_id("agent@acme.test");
    let start = NaiveDate::from_ymd_opt(2026, 3, 1)
        .unwrap()
        .and_hms_opt(0, 0, 0)
        .unwrap();
    let at = |t: chrono::NaiveDateTime| t.format("'%Y-%m-%d %H:%M:%S'").to_string();
    // 61 conversations over ten days, resolved after 0 s to 11 days and
    // first answered after 0 s to 28 h: many buckets, several values in some.
    let mut rows = Vec::new();
    for i in 0..61i64 {
        let team = if i % 4 == 0 { billing } else { support };
        let created = start + Duration::hours(i * 4);
        let first = (i * 7919) % 100_000 + i % 2;
        let closed = created + Duration::seconds((i * i * i * 13 + i * 7) % 1_000_000);
        let id = app.conversation(&format!("p{i}"), carl, Some(team), None, "done");
        app.sql(&format!(
            "UPDATE conversations SET created_at = {}, closed_at = {} WHERE id = {id}",
            at(created),
            at(closed)
        ));
        app.sql(&format!(
            "INSERT INTO messages (conversation_id, kind, author_user_id, body, created_at) \
             VALUES ({id}, 'reply', {alan}, 'x', {})",
            at(created + Duration::seconds(first))
        ));
        rows.push((team, created, first, closed));
    }
    let nearest_rank = |mut values: Vec<i64>| {
        values.sort();
        let n = values.len() as i64;
        let at = |p| {
            values
                .get((confer::reports::rank(p, n) - 1) as usize)
                .map(|v| *v as f64)
        };
        (n, at(50), at(90))
    };
    let mut conn = app.conn();
    let day = |d: u32| NaiveDate::from_ymd_opt(2026, 3, d).unwrap();
    for (from, to, team) in [
        (day(1), day(20), None),
        (day(1), day(20), Some(support)),
        (day(3), day(6), None),
        (day(3), day(6), Some(billing)),
        (day(25), day(31), None),
    ] {
        let range = confer::reports::Range { from, to, team };
        let mine = |t: i64| team.is_none_or(|only| only == t);
        let within = |t: chrono::NaiveDateTime| t.date() >= from && t.date() <= to;
        let first = confer::reports::first_response(&mut conn, &range).unwrap();
        let expected = nearest_rank(
            rows.iter()
                .filter(|r| mine(r.0) && within(r.1))
                .map(|r| r.2)
                .collect(),
        );
        assert_eq!(
            (first.count, first.median, first.p90),
            expected,
            "{range:?}"
        );
        let resolution = confer::reports::resolution(&mut conn, &range).unwrap();
        let expected = nearest_rank(
            rows.iter()
                .filter(|r| mine(r.0) && within(r.3))
                .map(|r| (r.3 - r.1).num_seconds())
                .collect(),
        );
        assert_eq!(
            (resolution.count, resolution.median, resolution.p90),
            expected,
            "{range:?}"
        );
    }
    // The values spread over many buckets, and some buckets hold several.
    let buckets = app.count("(SELECT DISTINCT resolution_bucket FROM conversations) b");
    assert!(buckets > 15, "{buckets} buckets");
});
