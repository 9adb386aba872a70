//! Webhooks delivered to a real loopback receiver: signatures, retries with backoff, private targets refused.

use super::*;

/// A loopback HTTP server that records requests and answers with the next
/// status from `answers` (200 when they run out).
struct Receiver {
    port: u16,
    seen: Arc<Mutex<Vec<Received>>>,
}

/// One request the receiver took: its headers (lower-case names) and body.
type Received = (Vec<(String, String)>, String);

fn receiver(answers: Vec<u16>) -> Receiver {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    let answers = Arc::new(Mutex::new(answers.into_iter()));
    std::thread::spawn(move || {
        for stream in listener.incoming() {
            let Ok(mut stream) = stream else { continue };
            let mut reader = BufReader::new(stream.try_clone().unwrap());
            let mut headers = Vec::new();
            let mut line = String::new();
            reader.read_line(&mut line).unwrap();
            loop {
                line.clear();
                reader.read_line(&mut line).unwrap();
                let trimmed = line.trim_end();
                if trimmed.is_empty() {
                    break;
                }
                if let Some((name, value)) = trimmed.split_once(": ") {
                    headers.push((name.to_lowercase(), value.to_string()));
                }
            }
            let length: usize = headers
                .iter()
                .find(|(n, _)| n == "content-length")
                .and_then(|(_, v)| v.parse().ok())
                .unwrap_or(0);
            let mut body = vec![0; length];
            reader.read_exact(&mut body).unwrap();
            log.lock()
                .unwrap()
                .push((headers, String::from_utf8(body).unwrap()));
            let status = answers.lock().unwrap().next().unwrap_or(200);
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n"
            );
        }
    });
    Receiver { port, seen }
}

db_test!(
    webhooks_are_signed_queued_retried_and_logged,
    configure = crate::support::allow_private_webhooks,
    |app| {
        let app = app.with_org();
        let w = world(&app);
        let server = receiver(vec![500]);
        let mut admin = app.sign_in("admin@acme.test");
        let url = format!("http://127.0.0.1:{}/hooks", server.port);
        let bad = admin.post_form(
            "/settings/webhooks",
            &[("url", "ftp://x"), ("active", "on")],
        );
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("ftp://x"), "what was typed is kept");
        let created = admin.post_form(
            "/settings/webhooks",
            &[
                ("url", &url),
                ("events", "note.added"),
                ("events", "assignment.changed"),
                ("events", "user.deactivated"),
                ("active", "on"),
            ],
        );
        created.expect_redirect("/settings/webhooks/*");
        let hook_page = created.location.unwrap();
        let page = admin.get(&hook_page);
        let marker = "data-testid=\"webhook-secret\">";
        let start = page.body.find(marker).unwrap() + marker.len();
        let secret = page.body[start..].split('<').next().unwrap().to_string();

        // A note through the API queues note.added; a reply (not subscribed) nothing.
        let token = app.api_token("agent@acme.test");
        let mut c = app.client();
        c.api(
            "POST",
            &format!("/api/v1/conversations/{}/notes", w.conversation),
            Some(&token),
            Some(&json!({ "body": "Escalating" })),
            &[],
        )
        .expect_done();
        c.api(
            "POST",
            &format!("/api/v1/conversations/{}/replies", w.conversation),
            Some(&token),
            Some(&json!({ "body": "Hello" })),
            &[],
        )
        .expect_done();
        assert_eq!(app.count("webhook_deliveries"), 1);

        // The first attempt gets a 500: kept, retried later.
        let round = app.run_jobs(None);
        assert_eq!((round.webhooks_delivered, round.webhooks_failed), (0, 1));
        assert_eq!(
        app.count(
            "webhook_deliveries WHERE state = 'pending' AND attempts = 1 AND response_status = 500"
        ),
        1
    );
        assert_eq!(app.run_jobs(None).webhooks_failed, 0, "not due again yet");
        app.clock.advance(chrono::Duration::minutes(3));
        let round = app.run_jobs(None);
        assert_eq!(round.webhooks_delivered, 1);
        assert_eq!(
            app.count("webhook_deliveries WHERE state = 'delivered' AND attempts = 2"),
            1
        );

        let seen = server.seen.lock().unwrap().clone();
        assert_eq!(seen.len(), 2);
        let (headers, body) = &seen[1];
        let header = |name: &str| {
            headers
                .iter()
                .find(|(n, _)| n == name)
                .map(|(_, v)| v.clone())
                .unwrap()
        };
        assert_eq!(header("confer-event"), "note.added");
        let payload: Value = serde_json::from_str(body).unwrap();
        assert_eq!(payload["event"], "note.added");
        assert_eq!(payload["data"]["conversation_id"], w.conversation);
        assert_eq!(payload["data"]["body"], "Escalating");
        // The signature is HMAC-SHA256 of "<t>.<body>" with the secret.
        let signature = header("confer-signature");
        let (t, v1) = signature.split_once(",v1=").unwrap();
        let t: i64 = t.trim_start_matches("t=").parse().unwrap();
        assert_eq!(
            signature,
            confer::models::webhook::signature(&secret, t, body)
        );
        assert_eq!(v1.len(), 64);
        {
            use hmac::{Hmac, Mac};
            let mut mac = Hmac::<sha2::Sha256>::new_from_slice(secret.as_bytes()).unwrap();
            mac.update(format!("{t}.{body}").as_bytes());
            assert_eq!(hex::encode(mac.finalize().into_bytes()), v1);
        }

        // Assignment and deactivation events; the log shows each delivery.
        let agent = app.user_id("agent@acme.test");
        c.api(
            "PATCH",
            &format!("/api/v1/conversations/{}", w.conversation),
            Some(&token),
            Some(&json!({ "assignee_id": agent })),
            &[],
        )
        .expect_done();
        admin
            .post_form(&format!("/settings/users/{agent}/deactivate"), &[])
            .expect_done();
        app.run_jobs(None);
        let events: Vec<String> = server
            .seen
            .lock()
            .unwrap()
            .iter()
            .map(|(h, _)| {
                h.iter()
                    .find(|(n, _)| n == "confer-event")
                    .unwrap()
                    .1
                    .clone()
            })
            .collect();
        assert!(
            events.contains(&"assignment.changed".to_string()),
            "{events:?}"
        );
        assert!(
            events.contains(&"user.deactivated".to_string()),
            "{events:?}"
        );
        let log = admin.get(&hook_page).body;
        assert!(
            log.contains("assignment.changed")
                && log.contains("user.deactivated")
                && log.contains("HTTP 200")
        );
        // A test event, an edit that turns it off, and deletion.
        let id = hook_page
            .rsplit('/')
            .next()
            .unwrap()
            .split('?')
            .next()
            .unwrap()
            .to_string();
        admin
            .post_form(&format!("/settings/webhooks/{id}/test"), &[])
            .expect_done();
        app.run_jobs(None);
        assert!(
            server
                .seen
                .lock()
                .unwrap()
                .iter()
                .any(|(_, b)| b.contains("webhook.test"))
        );
        admin
            .post_form(
                &format!("/settings/webhooks/{id}"),
                &[("url", &url), ("events", "note.added")],
            )
            .expect_done();
        // (The agent was deactivated above: the manager writes this note.)
        let manager = app.api_token("manager@acme.test");
        c.api(
            "POST",
            &format!("/api/v1/conversations/{}/notes", w.conversation),
            Some(&manager),
            Some(&json!({ "body": "Quiet" })),
            &[],
        )
        .expect_status(201);
        assert_eq!(
            app.count("webhook_deliveries WHERE payload LIKE '%Quiet%'"),
            0,
            "an inactive webhook gets nothing"
        );
        assert_eq!(
            admin
                .post_form(&format!("/settings/webhooks/{id}/delete"), &[])
                .status,
            303
        );
        assert_eq!(app.count("webhook_deliveries"), 0);
    }
);

db_test!(webhooks_never_reach_private_addresses_by_default, |app| {
    let app = app.with_org();
    world(&app);
    let server = receiver(vec![200]);
    let mut admin = app.sign_in("admin@acme.test");
    let hooks = app.count("webhooks");
    for url in [
        format!("http://127.0.0.1:{}/hooks", server.port),
        "http://localhost:9/hooks".to_string(),
        "http://169.254.169.254/latest/meta-data/".to_string(),
        "http://10.1.2.3/hooks".to_string(),
        "http://192.168.0.10/hooks".to_string(),
        "http://[::1]:9/hooks".to_string(),
        "http://[::ffff:127.0.0.1]:9/hooks".to_string(),
    ] {
        let refused = admin.post_form(
            "/settings/webhooks",
            &[("url", &url), ("events", "note.added"), ("active", "on")],
        );
        assert_eq!(refused.status, 422, "{url}");
        assert!(
            refused
                .body
                .contains("a private, loopback or link-local network"),
            "{url}: {}",
            refused.body
        );
    }
    let unknown = admin.post_form(
        "/settings/webhooks",
        &[
            ("url", "https://no-such-host.invalid/h"),
            ("events", "note.added"),
            ("active", "on"),
        ],
    );
    assert_eq!(unknown.status, 422);
    assert!(unknown.body.contains("could not be found"));
    assert_eq!(app.count("webhooks"), hooks, "nothing was saved");

    // A target saved before (or a name that now resolves elsewhere) is
    // checked again when called: refused, and the receiver hears nothing.
    let now = app.clock.now();
    let url = format!("http://127.0.0.1:{}/hooks", server.port);
    let hook =
        confer::models::webhook::create(&mut app.conn(), &url, &["note.added"], "s", now).unwrap();
    confer::models::webhook::queue(&mut app.conn(), hook, "webhook.test", &json!({}), now).unwrap();
    let round = app.run_jobs(None);
    assert_eq!(round.webhooks_failed, 1);
    assert_eq!(
        app.count("webhook_deliveries WHERE last_error LIKE '%private address%'"),
        1
    );
    assert!(server.seen.lock().unwrap().is_empty());
});
