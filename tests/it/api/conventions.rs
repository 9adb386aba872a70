//! The API's conventions: idempotent retries, stable cursors, the OpenAPI document against the router and the answers, token lifecycles, errors and limits.

use super::*;

db_test!(an_idempotent_retry_sends_the_reply_once, |app| {
    let app = app.with_org();
    let w = world(&app);
    let token = app.api_token("agent@acme.test");
    let mut c = app.client();
    let path = format!("/api/v1/conversations/{}/replies", w.conversation);
    let body = json!({ "body": "Your printer is fixed." });
    let key = [("Idempotency-Key", "retry-42")];
    let first = c.api("POST", &path, Some(&token), Some(&body), &key);
    assert_eq!(first.status, 201, "{}", first.body);
    assert!(
        first
            .header("location")
            .is_some_and(|l| l.starts_with("/api/v1/conversations/"))
    );
    let again = c.api("POST", &path, Some(&token), Some(&body), &key);
    assert_eq!(again.status, 201);
    assert_eq!(again.json(), first.json());
    assert_eq!(again.header("idempotent-replayed"), Some("true"));
    assert_eq!(app.count("messages WHERE kind = 'reply'"), 1);
    assert_eq!(app.count("outbox WHERE kind = 'reply'"), 1);
    // The same key with another body is refused; no key sends again.
    let other = c.api(
        "POST",
        &path,
        Some(&token),
        Some(&json!({ "body": "Different" })),
        &key,
    );
    assert_eq!(other.status, 409);
    assert_eq!(other.json()["error"]["code"], "idempotency_key_reused");
    c.api("POST", &path, Some(&token), Some(&body), &[])
        .expect_done();
    assert_eq!(app.count("messages WHERE kind = 'reply'"), 2);
    // Another token's key space is its own.
    let other_token = app.api_token("manager@acme.test");
    let theirs = c.api("POST", &path, Some(&other_token), Some(&body), &key);
    assert_eq!(theirs.status, 201);
    assert!(theirs.header("idempotent-replayed").is_none());
    assert_eq!(app.count("messages WHERE kind = 'reply'"), 3);
});

db_test!(cursors_are_stable_while_conversations_arrive, |app| {
    let app = app.with_org();
    let w = world(&app);
    let mut original = vec![w.conversation];
    for n in 0..24 {
        app.clock.advance(chrono::Duration::seconds(1));
        original.push(app.conversation(
            &format!("Batch {n}"),
            w.customer,
            Some(w.team),
            None,
            "open",
        ));
    }
    let token = app.api_token("agent@acme.test");
    let mut c = app.client();
    let mut seen: Vec<i64> = Vec::new();
    let mut cursor: Option<String> = None;
    let mut pages = 0;
    loop {
        let path = match &cursor {
            Some(cur) => format!("/api/v1/conversations?limit=7&cursor={cur}"),
            None => "/api/v1/conversations?limit=7".to_string(),
        };
        let page = c.api("GET", &path, Some(&token), None, &[]).json();
        seen.extend(
            page["data"]
                .as_array()
                .unwrap()
                .iter()
                .map(|c| c["id"].as_i64().unwrap()),
        );
        pages += 1;
        // New conversations arrive between pages.
        app.clock.advance(chrono::Duration::seconds(1));
        app.conversation(
            &format!("Arrived {pages}"),
            w.customer,
            Some(w.team),
            None,
            "open",
        );
        match page["next_cursor"].as_str() {
            Some(next) => cursor = Some(next.to_string()),
            None => break,
        }
    }
    let unique: HashSet<i64> = seen.iter().copied().collect();
    assert_eq!(
        unique.len(),
        seen.len(),
        "a conversation came twice: {seen:?}"
    );
    for id in &original {
        assert!(unique.contains(id), "conversation {id} was skipped");
    }
    assert_eq!(pages, 4, "25 conversations in pages of 7");
    let bad = c.api(
        "GET",
        "/api/v1/conversations?cursor=not-ours",
        Some(&token),
        None,
        &[],
    );
    assert_eq!(bad.status, 400);
    assert_eq!(bad.json()["error"]["code"], "invalid_cursor");
});

db_test!(the_openapi_document_matches_the_router, |app| {
    let app = app.with_org();
    let mut c = app.client();
    let doc = c.get("/api/v1/openapi.json");
    assert_eq!(doc.status, 200);
    let doc = doc.json();
    assert_eq!(doc["openapi"], "3.1.0");
    let mut documented = HashSet::new();
    for (path, item) in doc["paths"].as_object().unwrap() {
        for (method, operation) in item.as_object().unwrap() {
            documented.insert((method.clone(), path.clone()));
            let responses = operation["responses"].as_object().unwrap();
            assert!(
                responses.keys().any(|s| s.starts_with('2')),
                "{method} {path} has no success response"
            );
            if path != "/api/v1/openapi.json" {
                assert!(
                    responses.contains_key("401") && responses.contains_key("403"),
                    "{method} {path}"
                );
            }
        }
    }
    let routed: HashSet<(String, String)> = confer::api::ROUTES
        .iter()
        .map(|(m, p)| (m.to_string(), format!("/api/v1{p}")))
        .collect();
    let missing: Vec<_> = routed.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&routed).collect();
    assert!(
        missing.is_empty(),
        "routes missing from the document: {missing:?}"
    );
    assert!(extra.is_empty(), "documented but not routed: {extra:?}");
    // The route table is what the router serves: every entry is routed (a
    // 401, never the router's "no such route").
    for (method, path) in &routed {
        let got = c.api(
            &method.to_uppercase(),
            &path.replace("{id}", "1"),
            None,
            None,
            &[],
        );
        assert_ne!(
            got.json()["error"]["code"],
            "route_not_found",
            "{method} {path}"
        );
    }
    let nowhere = c.api("GET", "/api/v1/nowhere", None, None, &[]);
    assert_eq!(
        (nowhere.status, nowhere.json()["error"]["code"].clone()),
        (404, json!("route_not_found"))
    );
    let wrong_method = c.api("DELETE", "/api/v1/conversations", None, None, &[]);
    assert_eq!(wrong_method.status, 405);
    assert_eq!(wrong_method.header("allow"), Some("GET, POST"));
    // The reference page renders every operation of the document.
    app.staff();
    let page = app.sign_in("agent@acme.test").get("/api/docs");
    assert_eq!(page.status, 200);
    assert_eq!(
        page.body.matches("data-testid=\"operation\"").count(),
        routed.len()
    );
    assert!(page.body.contains("/api/v1/conversations/{id}/replies"));
    // Descriptions are Markdown, shown formatted: no backtick is left.
    assert!(page.body.contains("see <code>Retry-After</code>"));
    assert!(!page.body.contains('`'), "Markdown left as written");
});

db_test!(tokens_follow_their_user, |app| {
    let app = app.with_org();
    let w = world(&app);
    // Created on the profile page, shown once, stored hashed.
    let mut browser = app.sign_in("agent@acme.test");
    let page = browser.post_form("/profile/tokens", &[("name", "CI script")]);
    assert_eq!(page.status, 200);
    let marker = "data-testid=\"new-token\">";
    let start = page.body.find(marker).expect("token shown") + marker.len();
    let token = page.body[start..].split('<').next().unwrap().to_string();
    assert!(token.starts_with("confer_pat_"));
    assert_eq!(
        app.count(&format!(
            "api_tokens WHERE token_hash = '{}'",
            confer::handlers::inbound_token_hash(&token)
        )),
        1
    );
    assert_eq!(
        app.count(&format!("api_tokens WHERE token_hash = '{token}'")),
        0
    );
    assert!(
        !browser.get("/profile/tokens").body.contains(&token),
        "shown more than once"
    );
    let empty = browser.post_form("/profile/tokens", &[("name", " ")]);
    assert_eq!(empty.status, 422);

    let mut c = app.client();
    let me = c.api("GET", "/api/v1/me", Some(&token), None, &[]);
    assert_eq!(me.json()["email"], "agent@acme.test");
    assert!(
        me.json()["created_at"].as_str().unwrap().ends_with('Z'),
        "RFC 3339 in UTC"
    );
    assert_eq!(app.count("api_tokens WHERE last_used_at IS NOT NULL"), 1);

    // A type change applies at once: now a collaborator, replies are refused.
    app.sql("UPDATE users SET user_type = 'collaborator', role_id = NULL WHERE email = 'agent@acme.test'");
    let reply = json!({ "body": "hi" });
    let path = format!("/api/v1/conversations/{}/replies", w.conversation);
    assert_eq!(
        c.api("POST", &path, Some(&token), Some(&reply), &[]).status,
        403
    );
    app.sql(&format!(
        "UPDATE users SET user_type = 'full_time', role_id = {} WHERE email = 'agent@acme.test'",
        app.role_id(BuiltinRole::Agent)
    ));
    assert_eq!(
        c.api("POST", &path, Some(&token), Some(&reply), &[]).status,
        201
    );

    // A seasonal window's end stops it; deactivation revokes it.
    app.sql("UPDATE users SET user_type = 'seasonal', access_starts = '2020-01-01', access_ends = '2020-01-31' WHERE email = 'agent@acme.test'");
    let closed = c.api("GET", "/api/v1/me", Some(&token), None, &[]);
    assert_eq!(
        (closed.status, closed.json()["error"]["code"].clone()),
        (401, json!("access_window_closed"))
    );
    app.sql("UPDATE users SET user_type = 'full_time', access_starts = NULL, access_ends = NULL WHERE email = 'agent@acme.test'");
    let admin = app.api_token("admin@acme.test");
    let agent_id = app.user_id("agent@acme.test");
    let off = c.api(
        "POST",
        &format!("/api/v1/users/{agent_id}/deactivate"),
        Some(&admin),
        None,
        &[],
    );
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.json()["active"], false);
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&token), None, &[]).status,
        401
    );
    assert_eq!(app.count("api_tokens WHERE revoked_at IS NOT NULL"), 1);

    // Revoking one's own token from the profile.
    let second = app.api_token("manager@acme.test");
    let id = id_of(&app, "SELECT MAX(id) AS n FROM api_tokens");
    let mut manager = app.sign_in("manager@acme.test");
    assert_eq!(
        manager
            .post_form(&format!("/profile/tokens/{id}/revoke"), &[])
            .status,
        303
    );
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&second), None, &[]).status,
        401
    );
    // Someone else's token is not theirs to revoke.
    let owners = app.api_token("owner@acme.test");
    let owners_id = id_of(&app, "SELECT MAX(id) AS n FROM api_tokens");
    assert_eq!(
        manager
            .post_form(&format!("/profile/tokens/{owners_id}/revoke"), &[])
            .status,
        404
    );
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&owners), None, &[]).status,
        200
    );
    // An admin sees every live token and can revoke it.
    let mut admin_browser = app.sign_in("admin@acme.test");
    assert!(
        admin_browser
            .get("/settings/api")
            .body
            .contains("Olivia Owner")
    );
    admin_browser
        .post_form(&format!("/settings/api/tokens/{owners_id}/revoke"), &[])
        .expect_done();
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&owners), None, &[]).status,
        401
    );
});

db_test!(errors_limits_and_rate_limits_answer_json, |app| {
    let app = app.with_org();
    let w = world(&app);
    let token = app.api_token("agent@acme.test");
    let mut c = app.client();
    let notes = format!("/api/v1/conversations/{}/notes", w.conversation);
    let code = |r: &crate::support::Response| {
        r.json()["error"]["code"]
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // Not JSON, the wrong type, too large, the wrong shape, invalid values.
    let raw = |content_type: &str, body: Vec<u8>| {
        let request = ureq::http::Request::builder()
            .method("POST")
            .uri(format!("{}{notes}", app.base_url))
            .header("Authorization", format!("Bearer {token}"))
            .header("Content-Type", content_type)
            .body(body)
            .unwrap();
        let agent: ureq::Agent = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .build()
            .into();
        let mut response = agent.run(request).unwrap();
        (
            response.status().as_u16(),
            response.body_mut().read_to_string().unwrap_or_default(),
        )
    };
    let (status, body) = raw("application/json", b"{not json".to_vec());
    assert_eq!(status, 400, "{body}");
    assert!(body.contains("invalid_json"));
    let (status, _) = raw("text/plain", b"{}".to_vec());
    assert_eq!(status, 415);
    let (status, body) = raw(
        "application/json",
        format!("{{\"body\":\"{}\"}}", "x".repeat(2 * 1024 * 1024)).into_bytes(),
    );
    assert_eq!(status, 413, "{body}");
    let shape = c.api(
        "POST",
        &notes,
        Some(&token),
        Some(&json!({ "text": "hi" })),
        &[],
    );
    assert_eq!(
        (shape.status, code(&shape)),
        (422, "validation_failed".into())
    );
    let blank = c.api(
        "POST",
        &notes,
        Some(&token),
        Some(&json!({ "body": "  " })),
        &[],
    );
    assert_eq!(blank.status, 422);
    assert!(blank.json()["error"]["details"]["fields"]["body"].is_array());
    let query = c.api(
        "GET",
        "/api/v1/conversations?limit=1000",
        Some(&token),
        None,
        &[],
    );
    assert_eq!((query.status, code(&query)), (400, "invalid_limit".into()));
    let bad_type = c.api(
        "GET",
        "/api/v1/conversations?assignee_id=abc",
        Some(&token),
        None,
        &[],
    );
    assert_eq!(bad_type.status, 400);
    assert_eq!(
        c.api("GET", "/api/v1/conversations/abc", Some(&token), None, &[])
            .status,
        404
    );
    // No CORS headers, ever.
    let me = c.api(
        "GET",
        "/api/v1/me",
        Some(&token),
        None,
        &[("Origin", "https://evil.example")],
    );
    assert!(me.header("access-control-allow-origin").is_none());
    // A created resource has its Location.
    let created = c.api(
        "POST",
        "/api/v1/customers",
        Some(&token),
        Some(&json!({ "name": "Lou", "email": "lou@example.com" })),
        &[],
    );
    assert_eq!(created.status, 201);
    let location = created.header("location").unwrap().to_string();
    assert_eq!(
        c.api("GET", &location, Some(&token), None, &[]).json()["name"],
        "Lou"
    );
    let dup = c.api(
        "POST",
        "/api/v1/customers",
        Some(&token),
        Some(&json!({ "name": "Lou 2", "email": "LOU@example.com" })),
        &[],
    );
    // Another customer's address is a conflict (409), like a user's.
    assert_eq!(dup.status, 409);
    assert_eq!(
        dup.json()["error"]["details"]["fields"]["email"][0],
        "belongs to another customer"
    );
    // The rate limit is per token, with Retry-After.
    // A fresh minute, then three requests are allowed and the fourth is not.
    app.clock.advance(chrono::Duration::seconds(61));
    app.state.api_limiter.set_limit(3);
    let other = app.api_token("manager@acme.test");
    let statuses: Vec<u16> = (0..3)
        .map(|_| c.api("GET", "/api/v1/me", Some(&token), None, &[]).status)
        .collect();
    assert_eq!(statuses, vec![200, 200, 200]);
    let limited = c.api("GET", "/api/v1/me", Some(&token), None, &[]);
    assert_eq!(
        (limited.status, code(&limited)),
        (429, "rate_limited".into())
    );
    let retry: u64 = limited.header("retry-after").unwrap().parse().unwrap();
    assert!((1..=60).contains(&retry));
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&other), None, &[]).status,
        200,
        "another token has its own budget"
    );
    app.clock.advance(chrono::Duration::seconds(61));
    assert_eq!(
        c.api("GET", "/api/v1/me", Some(&token), None, &[]).status,
        200
    );
});

db_test!(the_api_answers_as_its_document_says, |app| {
    let app = app.with_org();
    let w = world(&app);
    let token = app.api_token("owner@acme.test");
    let mut c = app.client();
    // A field naming something that does not exist: 409 with the field.
    let missing = c.api(
        "POST",
        "/api/v1/tasks",
        Some(&token),
        Some(&json!({ "title": "T", "assignee_id": 999999 })),
        &[],
    );
    assert_eq!(missing.status, 409, "{}", missing.body);
    assert_eq!(missing.json()["error"]["code"], "related_not_found");
    assert!(missing.json()["error"]["details"]["fields"]["assignee_id"].is_array());
    // Whole numbers written as decimals are integers.
    let agent = app.user_id("agent@acme.test");
    let decimal = c.api(
        "POST",
        "/api/v1/tasks",
        Some(&token),
        Some(&json!({ "title": "Decimal", "assignee_id": agent as f64 })),
        &[],
    );
    assert_eq!(decimal.status, 201, "{}", decimal.body);
    let fraction = c.api(
        "POST",
        "/api/v1/tasks",
        Some(&token),
        Some(&json!({ "title": "Fraction", "assignee_id": agent as f64 + 0.5 })),
        &[],
    );
    assert_eq!(fraction.status, 422, "{}", fraction.body);
    // Keys are visible ASCII; a deactivation body must be an object (or null).
    let tab = c.api(
        "POST",
        &format!("/api/v1/conversations/{}/notes", w.conversation),
        Some(&token),
        Some(&json!({ "body": "x" })),
        &[("Idempotency-Key", "a\tb")],
    );
    assert_eq!(tab.status, 400, "{}", tab.body);
    let scalar = c.api(
        "POST",
        &format!("/api/v1/users/{agent}/deactivate"),
        Some(&token),
        Some(&json!(true)),
        &[],
    );
    assert_eq!(scalar.status, 422, "{}", scalar.body);
    assert_eq!(
        app.count(&format!("users WHERE id = {agent} AND active = TRUE")),
        1
    );
    // The document declares what the handlers check.
    let doc = c.get("/api/v1/openapi.json").json();
    let params = &doc["paths"]["/api/v1/conversations"]["get"]["parameters"];
    let param = |name: &str| {
        params
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == name)
            .unwrap()
            .clone()
    };
    assert_eq!(param("limit")["schema"]["minimum"], 1);
    assert_eq!(param("limit")["schema"]["maximum"], 100);
    let statuses = param("status").to_string();
    for status in ["open", "pending", "snoozed", "done"] {
        assert!(statuses.contains(&format!("\"{status}\"")), "{statuses}");
    }
    let user = &doc["components"]["schemas"]["UserFields"]["properties"];
    assert_eq!(user["email"]["format"], "email");
    assert_eq!(user["name"]["maxLength"], 200);
    assert!(
        user["timezone"]["enum"]
            .as_array()
            .unwrap()
            .contains(&json!("Europe/Berlin"))
    );
    let key = doc["paths"]["/api/v1/customers"]["post"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .find(|p| p["name"] == "Idempotency-Key")
        .unwrap()
        .clone();
    assert_eq!(key["schema"]["minLength"], 1);
    assert_eq!(key["schema"]["maxLength"], 255);
});
