//! Files in and out, permanent refusals on the conversation, and the outbox delivered once by several workers.

use super::*;

db_test!(attachments_are_stored_sniffed_and_guarded, |app| {
    let app = app.with_org();
    let (_, token) = email_workspace(&app);
    app.user("billing@acme.test", "Bill Billing")
        .in_team(app.team("Billing"))
        .teams_only()
        .create();
    let mut mta = app.client();
    let (_, id) = outcome(&mta.post_mail(&token, &fixture("attachments.eml")));
    let id = id.expect("conversation");
    let (_, logo_conversation) = outcome(&mta.post_mail(&token, &fixture("inline_image.eml")));
    let logo_conversation = logo_conversation.expect("conversation");
    assert_eq!(app.count("attachments"), 4);
    assert_eq!(app.count("attachments WHERE filename = 'evil.png' AND content_type = 'application/octet-stream' AND NOT inline"), 1);
    assert_eq!(
        app.count(
            "attachments WHERE filename = 'logo.png' AND content_type = 'image/png' AND inline"
        ),
        1
    );
    let attachment_id = |name: &str| {
        use confer::db::schema::attachments;
        use diesel::prelude::*;
        attachments::table
            .filter(attachments::filename.eq(name))
            .select(attachments::id)
            .first::<i64>(&mut app.conn())
            .expect("attachment")
    };
    let pdf = attachment_id("report.pdf");

    let mut alan = app.sign_in("agent@acme.test");
    let download = alan.get(&format!("/attachments/{pdf}"));
    assert_eq!(download.status, 200);
    assert_eq!(download.header("content-type"), Some("application/pdf"));
    assert!(
        download
            .header("content-disposition")
            .expect("disposition")
            .starts_with("attachment; filename=\"report.pdf\"")
    );
    assert!(
        download.body.starts_with("%PDF-"),
        "{:?}",
        &download.body[..download.body.len().min(80)]
    );
    let evil = alan.get(&format!("/attachments/{}", attachment_id("evil.png")));
    assert_eq!(
        evil.header("content-type"),
        Some("application/octet-stream")
    );
    assert!(
        evil.header("content-security-policy")
            .expect("csp")
            .contains("sandbox")
    );
    // The conversation page lists the files; only real images show as images.
    let page = alan.get(&format!("/conversations/{logo_conversation}"));
    let logo = attachment_id("logo.png");
    assert!(page.body.contains(&format!(
        "<img src=\"/attachments/{logo}\" alt=\"logo.png\""
    )));
    assert!(!page.body.contains(&format!(
        "<img src=\"/attachments/{}\"",
        attachment_id("evil.png")
    )));
    assert!(page.body.contains("Our logo looks wrong"));
    assert!(!page.body.contains("alert(1)"));
    assert!(
        alan.get(&format!("/conversations/{id}"))
            .body
            .contains(">report.pdf</a>")
    );

    // The collaborator of the team may download; another team may not, and
    // neither may anyone signed out.
    assert_eq!(
        app.sign_in("collab@acme.test")
            .get(&format!("/attachments/{pdf}"))
            .status,
        200
    );
    assert_eq!(
        app.sign_in("billing@acme.test")
            .get(&format!("/attachments/{pdf}"))
            .status,
        404
    );
    app.client()
        .get(&format!("/attachments/{pdf}"))
        .expect_redirect("/login");
    assert_eq!(alan.get("/attachments/999999").status, 404);
});

db_test!(replies_and_notes_carry_uploaded_files, |app| {
    let app = app.with_org();
    let (support, _) = email_workspace(&app);
    let carla = app.customer("Carla Customer", "carla@customer.test");
    let id = app.conversation("Printer on fire", carla, Some(support), None, "open");
    let mut alan = app.sign_in("agent@acme.test");
    let sent = alan.post_multipart(
        &format!("/conversations/{id}/reply"),
        &[("body", "The manual is attached.")],
        &[
            ("files", "manual.pdf", b"%PDF-1.4\nfake manual\n"),
            ("files", "", b""),
        ],
    );
    sent.expect_redirect("/conversations/*");
    assert_eq!(
        app.count("attachments WHERE filename = 'manual.pdf' AND content_type = 'application/pdf'"),
        1
    );
    assert_eq!(app.count("outbox_attachments"), 1);
    let mut cora = app.sign_in("collab@acme.test");
    let noted = cora.post_multipart(
        &format!("/conversations/{id}/notes"),
        &[("body", "Screenshot of the error")],
        &[("files", "error.txt", b"E42 fuser overheated")],
    );
    noted.expect_redirect("/conversations/*");
    assert_eq!(app.count("attachments"), 2);
    assert_eq!(
        app.count("outbox_attachments"),
        1,
        "a note's file never leaves"
    );

    let sink = SmtpSink::start();
    app.run_jobs(Some(sink.port));
    let mail = sink
        .wait_for(1)
        .into_iter()
        .find(|m| m.to == ["carla@customer.test"])
        .expect("the reply");
    assert!(mail.data.contains("multipart/mixed"));
    assert!(
        mail.data.contains("filename=\"manual.pdf\""),
        "{}",
        mail.data
    );
    assert!(!mail.data.contains("error.txt"));

    // Too large: the error names the file and the text typed is kept.
    let big = vec![b'a'; attachment::MAX_BYTES + 1];
    let refused = alan.post_multipart(
        &format!("/conversations/{id}/reply"),
        &[("body", "Here is the full dump")],
        &[("files", "dump.log", &big)],
    );
    assert_eq!(refused.status, 422);
    assert!(
        refused.body.contains("dump.log is larger than 10 MB"),
        "{}",
        refused.body
    );
    assert!(refused.body.contains(">Here is the full dump</textarea>"));
    assert_eq!(app.count("messages WHERE kind = 'reply'"), 1);
});

db_test!(a_permanent_refusal_shows_on_the_conversation, |app| {
    let app = app.with_org();
    let (support, _) = email_workspace(&app);
    let gone = app.customer("Gone Customer", "gone@customer.test");
    let id = app.conversation("Where are you", gone, Some(support), None, "open");
    let sink = SmtpSink::start();
    sink.refuse("gone@customer.test");
    let mut alan = app.sign_in("agent@acme.test");
    alan.post_form(&format!("/conversations/{id}/reply"), &[("body", "Hello?")])
        .expect_done();
    let round = app.run_jobs(Some(sink.port));
    assert_eq!((round.sent, round.failed), (0, 1));
    assert_eq!(
        app.count("outbox WHERE status = 'failed' AND attempts = 1 AND last_error LIKE '%550%'"),
        1
    );
    let page = alan.get(&format!("/conversations/{id}"));
    assert!(
        page.body.contains("Could not be delivered:") && page.body.contains("mailbox unavailable"),
        "{}",
        page.body
    );
    // Given up for good: later rounds do not try again.
    app.clock.advance(chrono::TimeDelta::hours(2));
    assert_eq!(app.run_jobs(Some(sink.port)).failed, 0);
    assert!(sink.messages().is_empty());
});

db_test!(two_worker_processes_deliver_each_mail_once, |app| {
    let app = app.with_org();
    const MAILS: usize = 500;
    {
        let mut conn = app.conn();
        let now = app.clock.now();
        confer::db::write_transaction(&mut conn, |conn| {
            for n in 0..MAILS {
                confer::models::outbox::enqueue(
                    conn,
                    &confer::models::outbox::Mail {
                        kind: "notification",
                        recipient: &format!("user{n}@acme.test"),
                        subject: &format!("Mail {n}"),
                        body_text: "Hello",
                        ..Default::default()
                    },
                    now,
                )?;
            }
            Ok::<_, diesel::result::Error>(())
        })
        .expect("queue");
    }
    let sink = SmtpSink::start();
    let database_url = match &app.state.config.database_url {
        confer::db::DatabaseUrl::Sqlite(path) => path.to_string_lossy().into_owned(),
        confer::db::DatabaseUrl::Postgres(url) => url.clone(),
    };
    let workers: Vec<std::process::Child> = (0..2)
        .map(|_| {
            std::process::Command::new(env!("CARGO_BIN_EXE_confer"))
                .args(["worker", "--until-idle", "--every", "1"])
                .env("DATABASE_URL", &database_url)
                .env("CONFER_DATA_DIR", std::env::temp_dir().join("confer-tests"))
                .env(
                    "CONFER_SECRET_KEY",
                    "worker-test-secret-key-0123456789abcdef",
                )
                .env("CONFER_SMTP_URL", format!("smtp://127.0.0.1:{}", sink.port))
                .env("RUST_LOG", "warn")
                .stdout(std::process::Stdio::null())
                .spawn()
                .expect("start worker")
        })
        .collect();
    for mut worker in workers {
        let status = worker.wait().expect("worker");
        assert!(status.success(), "worker failed: {status}");
    }
    let received = sink.wait_for(MAILS);
    let mut recipients: Vec<String> = received.iter().flat_map(|m| m.to.clone()).collect();
    recipients.sort();
    recipients.dedup();
    assert_eq!(received.len(), MAILS, "nothing sent twice");
    assert_eq!(recipients.len(), MAILS, "nothing left out");
    assert_eq!(
        app.count("outbox WHERE status = 'sent' AND attempts = 1"),
        MAILS as i64
    );
});

db_test!(
    mailgate_pipes_mail_in_with_exit_codes_an_mta_understands,
    |app| {
        let app = app.with_org();
        let (_, token) = email_workspace(&app);
        let mailgate = |url: &str, token: &str, mail: &[u8], extra: &[&str]| {
            use std::io::Write;
            let mut child = std::process::Command::new(env!("CARGO_BIN_EXE_confer"))
                .arg("mailgate")
                .args(["--url", url, "--timeout", "10"])
                .args(extra)
                .env("CONFER_INBOUND_TOKEN", token)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()
                .expect("start mailgate");
            child
                .stdin
                .take()
                .expect("stdin")
                .write_all(mail)
                .expect("write");
            let output = child.wait_with_output().expect("mailgate");
            (
                output.status.code().expect("exit code"),
                String::from_utf8_lossy(&output.stdout).into_owned(),
            )
        };
        let url = format!("{}/inbound/email", app.base_url);
        let (code, out) = mailgate(&url, &token, &fixture("iso2022jp.eml"), &[]);
        assert_eq!(code, 0, "{out}");
        assert!(out.contains("\"created\""));
        assert_eq!(app.count("conversations WHERE subject = '配送について'"), 1);
        // A wrong token or a server that is down: try again later (75).
        assert_eq!(mailgate(&url, "wrong", &fixture("plain.eml"), &[]).0, 75);
        let closed = std::net::TcpListener::bind("127.0.0.1:0").expect("port");
        let dead = format!(
            "http://{}/inbound/email",
            closed.local_addr().expect("addr")
        );
        drop(closed);
        assert_eq!(mailgate(&dead, &token, &fixture("plain.eml"), &[]).0, 75);
        // Not a mail: refused for good (65), so the MTA bounces it.
        assert_eq!(mailgate(&url, &token, b"garbage", &[]).0, 65);
        // The envelope recipient given by the MTA carries a reply address.
        let carla = app.customer("Carla Customer", "carla@customer.test");
        let id = app.conversation("Printer on fire", carla, None, None, "open");
        let signer = ReplySigner::from_config(&app.state.config);
        let address = signer.address(app.user_id("owner@acme.test"), id, app.clock.now().date());
        let mail = team_reply("owner@acme.test", "support@confer.test");
        let (code, out) = mailgate(&url, &token, &mail, &["--recipient", &address]);
        assert_eq!(code, 0);
        assert!(out.contains("\"noted\""), "{out}");
        assert_eq!(
            app.count(&format!(
                "messages WHERE conversation_id = {id} AND kind = 'note'"
            )),
            1
        );
    }
);
