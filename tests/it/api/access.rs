//! Who may call what: the route × role × token matrix, collaborator refusals that leave the database unchanged, invisible conversations answering like missing ones.

use super::*;

db_test!(route_role_token_matrix, |app| {
    let app = app.with_org();
    let w = world(&app);
    let collab = app.user_id("collab@acme.test");
    let tokens: Vec<String> = ROLES.iter().map(|e| app.api_token(e)).collect();
    let mut client = app.client();
    let mut wrong = Vec::new();
    let rows = matrix(&w, collab);
    // The matrix covers exactly the router's routes.
    let listed: HashSet<(String, String)> = rows
        .iter()
        .map(|(m, p, _, _)| (m.to_string(), p.split('?').next().unwrap_or(p).to_string()))
        .collect();
    let routed: HashSet<(String, String)> = confer::api::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), p.to_string()))
        .collect();
    assert_eq!(listed, routed, "the matrix and the router differ");
    for (n, (method, path, body, expected)) in rows.iter().enumerate() {
        let url = fill(path, &w);
        for (i, (token, status)) in tokens.iter().zip(expected).enumerate() {
            let body = body.as_ref().map(|b| {
                let mut b = b.clone();
                if b.get("email") == Some(&json!("UNIQUE")) {
                    b["email"] = json!(format!("colin{n}-{i}@partner.test"));
                }
                b
            });
            let got = client.api(
                &method.to_uppercase(),
                &url,
                Some(token),
                body.as_ref(),
                &[],
            );
            if got.status != *status {
                wrong.push(format!(
                    "{} {method} {url}: expected {status}, got {} {}",
                    ROLES[i], got.status, got.body
                ));
            }
            if got.status == 403 && got.json()["error"]["code"] != "forbidden" {
                wrong.push(format!("{method} {url}: 403 without the JSON error"));
            }
        }
        // No token, and a wrong one: 401 with the JSON error (the document is open).
        let open = *path == "/openapi.json";
        for token in [None, Some("confer_pat_not-a-token")] {
            let got = client.api(&method.to_uppercase(), &url, token, body.as_ref(), &[]);
            let expected = if open { 200 } else { 401 };
            if got.status != expected {
                wrong.push(format!(
                    "{token:?} {method} {url}: expected {expected}, got {}",
                    got.status
                ));
            }
            if !open && got.json()["error"]["code"].as_str().is_none() {
                wrong.push(format!("{method} {url}: 401 without the JSON error"));
            }
        }
    }
    assert!(wrong.is_empty(), "{}", wrong.join("\n"));
});

db_test!(collaborator_refusals_leave_the_database_unchanged, |app| {
    let app = app.with_org();
    let w = world(&app);
    let token = app.api_token("collab@acme.test");
    let snapshot = |app: &TestApp| {
        [
            "messages",
            "conversations",
            "outbox",
            "customers",
            "tasks",
            "users",
            "conversations WHERE priority = 'normal' AND status = 'open'",
        ]
        .map(|q| app.count(q))
    };
    let before = snapshot(&app);
    let mut c = app.client();
    let conv = format!("/api/v1/conversations/{}", w.conversation);
    let attempts = [
        (
            "POST",
            format!("{conv}/replies"),
            json!({ "body": "Hello customer" }),
        ),
        (
            "PATCH",
            conv.clone(),
            json!({ "status": "done", "priority": "urgent" }),
        ),
        (
            "POST",
            "/api/v1/conversations".into(),
            json!({ "customer_email": "x@example.com", "subject": "S", "message": "M", "team_id": w.team }),
        ),
        (
            "PATCH",
            format!("/api/v1/customers/{}", w.customer),
            json!({ "name": "Renamed" }),
        ),
        ("POST", "/api/v1/customers".into(), json!({ "name": "New" })),
        (
            "POST",
            "/api/v1/tasks".into(),
            json!({ "title": "T", "assignee_id": app.user_id("agent@acme.test") }),
        ),
        (
            "POST",
            "/api/v1/users".into(),
            json!({ "name": "N", "email": "n@acme.test", "user_type": "collaborator" }),
        ),
    ];
    for (method, path, body) in attempts {
        let got = c.api(method, &path, Some(&token), Some(&body), &[]);
        assert_eq!(got.status, 403, "{method} {path}: {}", got.body);
        let error = &got.json()["error"];
        assert_eq!(error["code"], "forbidden");
        assert!(error["message"].as_str().is_some_and(|m| !m.is_empty()));
        assert!(error.get("details").is_some());
    }
    // Reports and exports are not API routes at all; with a token they are
    // not reachable either (cookie sign-in only).
    let got = c.api("GET", "/reports", Some(&token), None, &[]);
    got.expect_redirect("/login");
    assert_eq!(
        snapshot(&app),
        before,
        "a refused request changed the database"
    );
});

db_test!(
    invisible_conversations_answer_404_like_missing_ones,
    |app| {
        let app = app.with_org();
        let w = world(&app);
        let billing = app.team("Billing");
        let hidden = app.conversation("Invoice dispute", w.customer, Some(billing), None, "open");
        app.user("teamonly@acme.test", "Tess Teamonly")
            .teams_only()
            .in_team(w.team)
            .create();
        let token = app.api_token("teamonly@acme.test");
        let mut c = app.client();
        let missing = c.api(
            "GET",
            "/api/v1/conversations/999999",
            Some(&token),
            None,
            &[],
        );
        assert_eq!(missing.status, 404);
        for (method, suffix, body) in [
            ("GET", "", None),
            ("GET", "/messages", None),
            ("PATCH", "", Some(json!({ "priority": "high" }))),
            ("POST", "/notes", Some(json!({ "body": "psst" }))),
            ("POST", "/replies", Some(json!({ "body": "hello" }))),
        ] {
            let got = c.api(
                method,
                &format!("/api/v1/conversations/{hidden}{suffix}"),
                Some(&token),
                body.as_ref(),
                &[],
            );
            assert_eq!(got.status, 404, "{method} {suffix}");
            assert_eq!(
                got.body, missing.body,
                "an invisible conversation must look missing"
            );
        }
        // Its files too; a visible conversation's file downloads.
        let hidden_file = file_on(&app, hidden, w.customer);
        let got = c.api(
            "GET",
            &format!("/api/v1/attachments/{hidden_file}"),
            Some(&token),
            None,
            &[],
        );
        assert_eq!(
            (got.status, got.body.as_str()),
            (404, missing.body.as_str())
        );
        let messages = c
            .api(
                "GET",
                &format!("/api/v1/conversations/{}/messages", w.conversation),
                Some(&token),
                None,
                &[],
            )
            .json();
        let with_file = messages["data"]
            .as_array()
            .unwrap()
            .iter()
            .find(|m| m["attachments"].as_array().is_some_and(|a| !a.is_empty()))
            .expect("the message with the file");
        let url = with_file["attachments"][0]["download_url"]
            .as_str()
            .unwrap()
            .to_string();
        let file = c.api("GET", &url, Some(&token), None, &[]);
        assert_eq!(file.status, 200);
        assert_eq!(file.body, "the printer smokes");
        assert!(
            file.header("content-disposition")
                .unwrap()
                .starts_with("attachment;")
        );
        let list = c
            .api("GET", "/api/v1/conversations", Some(&token), None, &[])
            .json();
        let ids: Vec<i64> = list["data"]
            .as_array()
            .unwrap()
            .iter()
            .map(|c| c["id"].as_i64().unwrap())
            .collect();
        assert!(ids.contains(&w.conversation) && !ids.contains(&hidden));
        assert_eq!(
            app.count(&format!(
                "messages WHERE conversation_id = {hidden} AND kind <> 'customer'"
            )),
            0
        );
    }
);
