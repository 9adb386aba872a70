//! Tasks: what collaborators see and may do (with the database unchanged on
//! refusal), notifications on assignment, comment and due date, and overdue
//! judged in each reader's timezone.

use crate::db_test;
use crate::support::*;

/// Support (agent, collaborator, manager) and Billing conversations, and a
/// task-making helper for the manager. Returns (support conversation,
/// billing conversation).
fn setup(app: &TestApp) -> (i64, i64) {
    let support = app.staff();
    let billing = app.team("Billing");
    app.sql("UPDATE users SET conversation_access = 'teams' WHERE email IN ('agent@acme.test', 'collab@acme.test')");
    let carl = app.customer_with_phone();
    let ours = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let theirs = app.conversation("Invoice dispute", carl, Some(billing), None, "open");
    (ours, theirs)
}

fn create_task(client: &mut Client, fields: &[(&str, &str)]) -> i64 {
    let response = client.post_form("/tasks/new", fields);
    response.expect_redirect("/tasks/*");
    response
        .location
        .expect("location")
        .trim_start_matches("/tasks/")
        .split('?')
        .next()
        .expect("id")
        .parse()
        .expect("id")
}

db_test!(collaborators_see_and_comment_on_their_tasks_only, |app| {
    let app = app.with_org();
    let (ours, theirs) = setup(&app);
    let cora = app.user_id("collab@acme.test").to_string();
    let alan = app.user_id("agent@acme.test").to_string();
    let mut manager = app.sign_in("manager@acme.test");
    let assigned_to_cora = create_task(
        &mut manager,
        &[
            ("title", "Check the invoice"),
            ("assignee", &cora),
            ("conversation", &theirs.to_string()),
        ],
    );
    let on_our_conversation = create_task(
        &mut manager,
        &[
            ("title", "Order toner"),
            ("assignee", &alan),
            ("conversation", &ours.to_string()),
        ],
    );
    let unlinked = create_task(
        &mut manager,
        &[("title", "Quarterly review"), ("assignee", &alan)],
    );
    let on_their_conversation = create_task(
        &mut manager,
        &[
            ("title", "Refund"),
            ("assignee", &alan),
            ("conversation", &theirs.to_string()),
        ],
    );

    let mut collaborator = app.sign_in("collab@acme.test");
    let mine = collaborator.get("/tasks");
    assert_eq!(mine.status, 200);
    assert!(mine.body.contains("Check the invoice"));
    assert!(
        !mine.body.contains("Invoice dispute"),
        "a conversation she cannot see is not named"
    );
    assert!(
        !mine.body.contains("href=\"/tasks/new\""),
        "no New task for collaborators"
    );
    assert_eq!(
        collaborator
            .get(&format!("/tasks/{assigned_to_cora}"))
            .status,
        200
    );
    assert_eq!(
        collaborator
            .get(&format!("/tasks/{on_our_conversation}"))
            .status,
        200
    );
    assert_eq!(collaborator.get(&format!("/tasks/{unlinked}")).status, 404);
    assert_eq!(
        collaborator
            .get(&format!("/tasks/{on_their_conversation}"))
            .status,
        404
    );
    // The conversation page lists its tasks, without "New task".
    let page = collaborator.get(&format!("/conversations/{ours}"));
    assert!(page.body.contains("Order toner"));
    assert!(!page.body.contains("/tasks/new?conversation="));

    // Commenting: on visible tasks only.
    let commented = collaborator.post_form(
        &format!("/tasks/{on_our_conversation}/comments"),
        &[("body", "The supplier is out of stock.")],
    );
    commented.expect_redirect("/tasks/*");
    assert_eq!(app.count("task_comments"), 1);
    assert_eq!(
        collaborator
            .post_form(&format!("/tasks/{unlinked}/comments"), &[("body", "Peek")])
            .status,
        404
    );
    // The assignee closes their own task.
    assert_eq!(
        collaborator
            .post_form(&format!("/tasks/{assigned_to_cora}/done"), &[])
            .status,
        303
    );
    assert_eq!(
        app.count(&format!(
            "tasks WHERE id = {assigned_to_cora} AND status = 'done'"
        )),
        1
    );

    // Creating, reassigning, and closing someone else's task: 403, nothing changes.
    let before = (
        app.count("tasks"),
        app.count(&format!("tasks WHERE id = {on_our_conversation} AND assignee_id = {alan} AND status = 'open' AND title = 'Order toner'")),
        app.count("task_comments"),
    );
    assert_eq!(collaborator.get("/tasks/new").status, 403);
    assert_eq!(
        collaborator
            .post_form("/tasks/new", &[("title", "Mine"), ("assignee", &cora)])
            .status,
        403
    );
    assert_eq!(
        collaborator
            .post_form(
                &format!("/tasks/{on_our_conversation}"),
                &[("title", "Order toner"), ("assignee", &cora)]
            )
            .status,
        403
    );
    assert_eq!(
        collaborator
            .post_form(&format!("/tasks/{on_our_conversation}/done"), &[])
            .status,
        403
    );
    let after = (
        app.count("tasks"),
        app.count(&format!("tasks WHERE id = {on_our_conversation} AND assignee_id = {alan} AND status = 'open' AND title = 'Order toner'")),
        app.count("task_comments"),
    );
    assert_eq!(before, after, "the database is unchanged");

    // A task on a conversation nobody may see cannot be created through it.
    let mut agent = app.sign_in("agent@acme.test");
    assert_eq!(
        agent
            .post_form(
                "/tasks/new",
                &[
                    ("title", "Sneaky"),
                    ("assignee", &alan),
                    ("conversation", &theirs.to_string())
                ]
            )
            .status,
        404
    );
    // Bad input comes back with the message and the text kept.
    let bad = agent.post_form(
        "/tasks/new",
        &[
            ("title", "Call back"),
            ("assignee", &alan),
            ("due_on", "next week"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(
        bad.body.contains("Enter a date like 2026-12-31.")
            && bad.body.contains("value=\"Call back\"")
    );
});

db_test!(tasks_notify_on_assignment_comment_and_due_date, |app| {
    let app = app.with_org();
    let (ours, _) = setup(&app);
    let alan = app.user_id("agent@acme.test");
    // Due dates come in the assignee's timezone: UTC here, so that
    // "tomorrow" below is tomorrow for Alan whatever the hour of the run.
    app.sql("UPDATE users SET timezone = 'UTC' WHERE email = 'agent@acme.test'");
    let mut manager = app.sign_in("manager@acme.test");
    let tomorrow = (app.clock.now() + chrono::Duration::days(1))
        .date()
        .to_string();
    let id = create_task(
        &mut manager,
        &[
            ("title", "Order toner"),
            ("assignee", &alan.to_string()),
            ("conversation", &ours.to_string()),
            ("due_on", &tomorrow),
        ],
    );
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {alan} AND kind = 'task_assigned' AND task_id = {id}"
        )),
        1
    );
    assert_eq!(
        app.count(
            "outbox WHERE recipient = 'agent@acme.test' AND subject = 'New task: Order toner'"
        ),
        1
    );

    // A comment tells the creator; a mention tells who can see the task.
    let mut agent = app.sign_in("agent@acme.test");
    let bell = agent.get("/notifications");
    assert!(bell.body.contains(&format!("href=\"/tasks/{id}\"")));
    assert!(
        bell.body
            .contains("Mia Manager assigned you the task “Order toner”")
    );
    agent.get(&format!("/tasks/{id}")).expect_done();
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {alan} AND read_at IS NULL"
        )),
        0,
        "opening the task reads it"
    );
    app.user("billing@acme.test", "Bill Billing")
        .in_team(app.team("Other"))
        .teams_only()
        .create();
    agent
        .post_form(
            &format!("/tasks/{id}/comments"),
            &[(
                "body",
                "@Cora Collaborator @Bill Billing can you chase the supplier?",
            )],
        )
        .expect_done();
    let manager_id = app.user_id("manager@acme.test");
    let cora = app.user_id("collab@acme.test");
    let bill = app.user_id("billing@acme.test");
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {manager_id} AND kind = 'task_comment'"
        )),
        1
    );
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {cora} AND kind = 'task_comment'"
        )),
        1
    );
    assert_eq!(
        app.count(&format!("notifications WHERE user_id = {bill}")),
        0,
        "Bill cannot see the task"
    );
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {alan} AND kind = 'task_comment'"
        )),
        0,
        "not the author"
    );

    // The due date: told once, when the day comes.
    assert_eq!(app.run_jobs(None).tasks_due, 0);
    app.clock.advance(chrono::Duration::days(1));
    assert_eq!(app.run_jobs(None).tasks_due, 1);
    assert_eq!(
        app.count(&format!(
            "notifications WHERE user_id = {alan} AND kind = 'task_due'"
        )),
        1
    );
    assert_eq!(
        app.count(
            "outbox WHERE recipient = 'agent@acme.test' AND subject = 'Due today: Order toner'"
        ),
        1
    );
    assert_eq!(app.run_jobs(None).tasks_due, 0, "told once");
    // Done tasks are not chased.
    agent
        .post_form(&format!("/tasks/{id}/done"), &[])
        .expect_done();
    assert_eq!(
        app.count(&format!(
            "tasks WHERE id = {id} AND status = 'done' AND completed_at IS NOT NULL"
        )),
        1
    );
});

db_test!(overdue_is_judged_in_each_readers_timezone, |app| {
    let app = app.with_org();
    let (ours, _) = setup(&app);
    // Kiritimati is UTC+14 and Pago Pago UTC−11: 25 hours apart, so their
    // dates always differ.
    app.sql("UPDATE users SET timezone = 'Pacific/Kiritimati' WHERE email = 'agent@acme.test'");
    app.sql("UPDATE users SET timezone = 'Pacific/Pago_Pago' WHERE email = 'manager@acme.test'");
    let now = app.clock.now();
    let pago_today = (now - chrono::Duration::hours(11)).date().to_string();
    // Shown written out, as the reader reads dates.
    let pago_written = (now - chrono::Duration::hours(11))
        .date()
        .format("%d %b %Y")
        .to_string();
    let alan = app.user_id("agent@acme.test").to_string();
    let mut manager = app.sign_in("manager@acme.test");
    let id = create_task(
        &mut manager,
        &[
            ("title", "Call back"),
            ("assignee", &alan),
            ("conversation", &ours.to_string()),
            ("due_on", &pago_today),
        ],
    );
    let for_manager = manager.get(&format!("/tasks/{id}")).body;
    assert!(
        for_manager.contains(&format!("Due {pago_written}")),
        "not overdue in Pago Pago"
    );
    let mut agent = app.sign_in("agent@acme.test");
    let for_agent = agent.get("/tasks").body;
    assert!(
        for_agent.contains(&format!("Overdue since {pago_written}")),
        "overdue in Kiritimati"
    );
    assert!(for_agent.contains("is-overdue"));
});
