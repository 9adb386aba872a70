//! Every input answered, nothing lost (issue 14): CSRF tokens only in the
//! body or a header, NUL characters from every door, bounded bodies and
//! searches with a page that says so, HEAD like GET, and methods Confer does
//! not serve answered at once.

use std::io::{Read, Write};

use serde_json::json;

use crate::db_test;
use crate::support::*;

fn signed_in_with_conversation(app: &TestApp) -> (Client, i64) {
    app.user("agent@acme.test", "Alan Agent").create();
    let carl = app.customer("Carl Customer", "carl@customer.test");
    let id = app.conversation("Printer on fire", carl, None, None, "open");
    (app.sign_in("agent@acme.test"), id)
}

db_test!(csrf_tokens_in_the_url_are_refused, |app| {
    let app = app.with_org();
    let (mut agent, id) = signed_in_with_conversation(&app);
    let token = agent.csrf();
    let messages = app.count("messages");
    for path in [
        format!("/conversations/{id}/notes?csrf_token={token}"),
        format!("/conversations/{id}/reply?csrf_token={token}"),
    ] {
        let refused = agent.post_multipart_raw(&path, &[("body", "From the URL")], &[]);
        assert_eq!(refused.status, 403, "{path}");
        assert!(refused.body.contains("The form expired"));
    }
    let profile = agent.post_raw(
        &format!("/profile?csrf_token={token}"),
        &[("name", "Mallory"), ("language", ""), ("timezone", "")],
    );
    assert_eq!(profile.status, 403);
    assert_eq!(app.count("messages"), messages, "nothing was written");
    assert_eq!(app.count("users WHERE name = 'Mallory'"), 0);
    let mut owner = app.sign_in("owner@acme.test");
    let owner_token = owner.csrf();
    let users = app.count("users");
    let import = owner.post_multipart_raw(
        &format!("/settings/users/import?csrf_token={owner_token}"),
        &[],
        &[("file", "users.csv", b"name,email\nNew,new@acme.test\n")],
    );
    assert_eq!(import.status, 403);
    let confirm = owner.post_raw(
        &format!("/settings/users/import/confirm?csrf_token={owner_token}"),
        &[("payload", "x")],
    );
    assert_eq!(confirm.status, 403);
    assert_eq!(app.count("users"), users);

    // The forms carry it first in the body, and that works.
    let page = agent.get(&format!("/conversations/{id}"));
    assert!(
        !page.body.contains("?csrf_token="),
        "no form puts the token in its action"
    );
    let noted = agent.post_multipart(
        &format!("/conversations/{id}/notes"),
        &[("body", "From the body")],
        &[],
    );
    noted.expect_redirect("/conversations/*");
    assert_eq!(
        app.count("messages WHERE kind = 'note' AND body = 'From the body'"),
        1
    );
    // A token that is not the first part is not looked for.
    let late = agent.post_multipart_raw(
        &format!("/conversations/{id}/notes"),
        &[("body", "Token last"), ("csrf_token", &token)],
        &[],
    );
    assert_eq!(late.status, 403);
});

db_test!(nul_characters_are_removed_wherever_text_comes_in, |app| {
    let app = app.with_org();
    let (mut agent, id) = signed_in_with_conversation(&app);
    let mut owner = app.sign_in("owner@acme.test");
    let mut visitor = app.client();
    for path in ["/help/search?q=%00", "/help/search?q=a%00b", "/kb?q=%00"] {
        let page = visitor.get(path);
        assert!(page.status < 500, "{path}: {}", page.status);
    }
    for path in [
        "/search?q=%00",
        "/search.csv?q=%00",
        "/customers?q=%00",
        "/kb?q=%00",
        "/organizations?q=%00",
        "/conversations?view=all&tag=%00",
        "/settings/users?q=%00",
    ] {
        let page = owner.get(path);
        assert!(page.status < 500, "{path}: {} {}", page.status, page.body);
    }
    let noted = agent.post_form(&format!("/conversations/{id}/notes"), &[("body", "a\0b")]);
    noted.expect_redirect("/conversations/*");
    assert_eq!(app.count("messages WHERE kind = 'note' AND body = 'ab'"), 1);
    let multipart = agent.post_multipart(
        &format!("/conversations/{id}/notes"),
        &[("body", "c\0d")],
        &[],
    );
    multipart.expect_redirect("/conversations/*");
    assert_eq!(app.count("messages WHERE kind = 'note' AND body = 'cd'"), 1);

    let token = app.api_token("agent@acme.test");
    let mut api = app.client();
    let note = api.api(
        "POST",
        &format!("/api/v1/conversations/{id}/notes"),
        Some(&token),
        Some(&json!({ "body": "e\u{0}f" })),
        &[],
    );
    assert_eq!(note.status, 201, "{}", note.body);
    assert_eq!(app.count("messages WHERE kind = 'note' AND body = 'ef'"), 1);
    let customer = api.api(
        "POST",
        "/api/v1/customers",
        Some(&token),
        Some(&json!({ "name": "Nu\u{0}ll", "email": "null@customer.test" })),
        &[],
    );
    assert_eq!(customer.status, 201, "{}", customer.body);
    assert_eq!(app.count("customers WHERE name = 'Null'"), 1);
    let opened = api.api(
        "POST",
        "/api/v1/conversations",
        Some(&token),
        Some(&json!({
            "customer_email": "null@customer.test",
            "subject": "Sub\u{0}ject",
            "message": "Bo\u{0}dy"
        })),
        &[],
    );
    assert!(opened.status < 300, "{}", opened.body);
    assert_eq!(app.count("conversations WHERE subject = 'Subject'"), 1);
    let search = api.api("GET", "/api/v1/search?q=%00", Some(&token), None, &[]);
    assert_eq!(search.status, 200, "{}", search.body);

    // Mail with NUL bytes in the subject and body is taken in.
    let inbound = app.inbound_token();
    let raw = b"From: Dana <dana@customer.test>\r\nTo: support@acme.test\r\nSubject: Zero\0 byte\r\nMessage-ID: <nul-1@customer.test>\r\nContent-Type: text/plain; charset=utf-8\r\n\r\nHello\0 there\r\n";
    let mail = app.client().post_mail(&inbound, raw);
    assert!(mail.status < 300, "{} {}", mail.status, mail.body);
    assert_eq!(app.count("conversations WHERE subject = 'Zero byte'"), 1);
    assert_eq!(
        app.count("messages WHERE kind = 'customer' AND body LIKE 'Hello there%'"),
        1
    );
});

db_test!(oversized_forms_get_a_page_that_names_the_limit, |app| {
    let app = app.with_org();
    let mut visitor = app.client();
    let huge = "x".repeat(10 * 1024 * 1024);
    for path in ["/login", "/contact"] {
        let refused = visitor.post_form(path, &[("email", &huge)]);
        assert_eq!(refused.status, 413, "{path}");
        assert!(refused.body.contains("256 KiB"), "{path}: {}", refused.body);
        assert!(
            refused.body.contains("<html"),
            "the error page, in the layout"
        );
        assert!(refused.header("content-security-policy").is_some());
        assert!(
            refused.header("x-request-id").is_some(),
            "logged like any request"
        );
    }
    let (mut agent, id) = signed_in_with_conversation(&app);
    let long = "y".repeat(300 * 1024);
    let note = agent.post_multipart(
        &format!("/conversations/{id}/notes"),
        &[("body", &long)],
        &[],
    );
    assert_eq!(note.status, 422);
    assert!(note.body.contains("Use at most 50000 characters."));
    assert!(!note.body.contains("This field is required"));
    assert!(!note.body.contains("The upload broke off"));
    assert!(
        note.body.contains(&"y".repeat(100_000)),
        "what fits is kept in the composer"
    );
});

db_test!(searches_are_bounded_with_a_clear_message, |app| {
    let app = app.with_org();
    let mut owner = app.sign_in("owner@acme.test");
    let long = "a".repeat(60_000);
    for path in ["/search", "/customers", "/settings/users", "/help/search"] {
        let page = owner.get(&format!("{path}?q={long}"));
        assert_eq!(page.status, 400, "{path}");
        assert!(
            page.body.contains("Search for at most 500 characters."),
            "{path}"
        );
    }
    let token = app.api_token("owner@acme.test");
    for path in ["/api/v1/search", "/api/v1/customers"] {
        let got = owner.api("GET", &format!("{path}?q={long}"), Some(&token), None, &[]);
        assert_eq!(got.status, 400, "{path}");
        assert_eq!(got.json()["error"]["code"], "search_too_long");
    }
    let fine = owner.get(&format!("/search?q={}", "a".repeat(500)));
    assert_eq!(fine.status, 200);
});

fn raw_request(app: &TestApp, request: &str) -> String {
    let address = app.base_url.trim_start_matches("http://");
    let mut stream = std::net::TcpStream::connect(address).expect("connect");
    stream
        .set_read_timeout(Some(std::time::Duration::from_secs(10)))
        .expect("timeout");
    stream.write_all(request.as_bytes()).expect("write");
    let mut response = Vec::new();
    let mut buffer = [0u8; 4096];
    while let Ok(n) = stream.read(&mut buffer) {
        if n == 0 {
            break;
        }
        response.extend_from_slice(&buffer[..n]);
        if response.windows(4).any(|w| w == b"\r\n\r\n") {
            break;
        }
    }
    String::from_utf8_lossy(&response).into_owned()
}

db_test!(head_is_answered_like_get_and_odd_methods_at_once, |app| {
    let app = app.with_org();
    let owner = app.sign_in("owner@acme.test");
    let cookie = owner.cookie_header();
    for (path, status) in [
        ("/conversations", "200"),
        ("/login", "200"),
        ("/healthz", "200"),
    ] {
        let response = raw_request(
            &app,
            &format!(
                "HEAD {path} HTTP/1.1\r\nHost: x\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n"
            ),
        );
        assert!(
            response.starts_with(&format!("HTTP/1.1 {status}")),
            "HEAD {path}: {response}"
        );
    }
    let anonymous = raw_request(
        &app,
        "HEAD /conversations HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
    );
    assert!(anonymous.starts_with("HTTP/1.1 303"), "{anonymous}");
    let started = std::time::Instant::now();
    let connect = raw_request(
        &app,
        "CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\nContent-Type: application/x-www-form-urlencoded\r\n\r\n",
    );
    assert!(connect.starts_with("HTTP/1.1 405"), "{connect:?}");
    assert!(started.elapsed() < std::time::Duration::from_secs(5));
    let trace = raw_request(
        &app,
        "TRACE / HTTP/1.1\r\nHost: x\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 3\r\nConnection: close\r\n\r\na=b",
    );
    assert!(trace.starts_with("HTTP/1.1 405"), "{trace:?}");
});

db_test!(
    marking_someone_elses_notification_read_is_not_found,
    |app| {
        let app = app.with_org();
        let (mut agent, id) = signed_in_with_conversation(&app);
        let owner = app.user_id("owner@acme.test");
        app.sql(&format!(
            "INSERT INTO notifications (user_id, kind, conversation_id, created_at) \
         VALUES ({owner}, 'mention', {id}, CURRENT_TIMESTAMP)"
        ));
        let theirs = app.count("notifications");
        assert_eq!(theirs, 1);
        let notification: i64 = {
            use confer::db::schema::notifications;
            use diesel::prelude::*;
            notifications::table
                .select(notifications::id)
                .first(&mut app.conn())
                .expect("id")
        };
        let refused = agent.post_form(&format!("/notifications/{notification}/read"), &[]);
        assert_eq!(refused.status, 404);
        assert_eq!(app.count("notifications WHERE read_at IS NULL"), 1);
        let mut owner_client = app.sign_in("owner@acme.test");
        let read = owner_client.post_form(&format!("/notifications/{notification}/read"), &[]);
        assert_eq!(read.location.as_deref(), Some("/notifications"));
        assert_eq!(app.count("notifications WHERE read_at IS NULL"), 0);
    }
);

db_test!(masked_addresses_do_not_leak_through_derived_names, |app| {
    let app = app.with_org();
    app.user("collab@acme.test", "Cora Collaborator")
        .collaborator()
        .create();
    app.sql("UPDATE org_settings SET mask_contacts_for_collaborators = TRUE");
    let inbound = app.inbound_token();
    let raw = b"From: dana.private@customer.test\r\nTo: support@acme.test\r\nSubject: Invoice\r\nMessage-ID: <mask-1@customer.test>\r\n\r\nWhere is it?\r\n";
    let mail = app.client().post_mail(&inbound, raw);
    assert!(mail.status < 300, "{}", mail.body);
    assert_eq!(
        app.count("customers WHERE name LIKE 'd%@customer.test' AND name NOT LIKE '%private%'"),
        1
    );
    let id = app.count("conversations");
    assert_eq!(id, 1);
    let mut cora = app.sign_in("collab@acme.test");
    for path in ["/conversations?view=all", "/customers", "/search?q=invoice"] {
        let page = cora.get(path);
        assert_eq!(page.status, 200, "{path}");
        assert!(
            !page.body.contains("dana.private"),
            "{path} shows the local part"
        );
    }
    // Without masking, a derived name is the address's local part.
    app.sql("UPDATE org_settings SET mask_contacts_for_collaborators = FALSE");
    let raw = b"From: eve.open@customer.test\r\nTo: support@acme.test\r\nSubject: Hi\r\nMessage-ID: <mask-2@customer.test>\r\n\r\nHello\r\n";
    assert!(app.client().post_mail(&inbound, raw).status < 300);
    assert_eq!(app.count("customers WHERE name = 'eve.open'"), 1);
});

#[test]
fn a_missing_row_is_not_found_never_a_500() {
    use actix_web::ResponseError;
    let web = confer::error::AppError::from(diesel::result::Error::NotFound);
    assert_eq!(web.status_code(), 404);
    let api = confer::api::ApiError::from(diesel::result::Error::NotFound);
    assert_eq!(api.status, 404);
    assert_eq!(api.code, "not_found");
    let broken = confer::error::AppError::from(diesel::result::Error::BrokenTransactionManager);
    assert_eq!(broken.status_code(), 500);
}
