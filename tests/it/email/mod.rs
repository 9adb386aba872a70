//! The email channel: the `.eml` corpus in tests/fixtures/mail (each with its
//! expected result in expected.json), malformed mail fed to the parser,
//! threading by each rule, reply-by-email notes and their refusals,
//! attachments and their visibility, the outbox through a real SMTP server,
//! two worker processes, and `confer mailgate` as a real subprocess.

use confer::mail::reply_address::ReplySigner;
use confer::models::attachment;
use serde_json::Value;

use crate::db_test;
use crate::smtp::SmtpSink;
use crate::support::*;

mod customers;
mod delivery;
mod parsing;
mod team_replies;

const FIXTURES: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mail");

fn fixture(name: &str) -> Vec<u8> {
    std::fs::read(format!("{FIXTURES}/{name}")).unwrap_or_else(|e| panic!("{name}: {e}"))
}

fn fixture_text(name: &str) -> String {
    String::from_utf8(fixture(name)).expect("ASCII/UTF-8 fixture")
}

fn strings(value: &Value) -> Vec<String> {
    value
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|v| v.as_str().map(String::from))
                .collect()
        })
        .unwrap_or_default()
}

/// An organization for customer.test, the Support team with Alan (agent)
/// and Cora (collaborator), and the inbound token.
fn email_workspace(app: &TestApp) -> (i64, String) {
    let support = app.team("Support");
    app.user("agent@acme.test", "Alan Agent")
        .in_team(support)
        .teams_only()
        .create();
    app.user("collab@acme.test", "Cora Collaborator")
        .collaborator()
        .in_team(support)
        .teams_only()
        .create();
    app.sql(&format!(
        "INSERT INTO organizations (name, domains, created_at) VALUES ('Customer Inc', 'customer.test', '2026-01-01 00:00:00');
         UPDATE org_settings SET intake_team_id = {support};"
    ));
    (support, app.inbound_token())
}

fn outcome(response: &Response) -> (String, Option<i64>) {
    assert_eq!(response.status, 200, "{}", response.body);
    let json: Value = serde_json::from_str(&response.body).expect("json");
    (
        json["outcome"].as_str().expect("outcome").to_string(),
        json["conversation_id"].as_i64(),
    )
}

/// A customer mail with these threading headers.
fn customer_mail(from: &str, subject: &str, id: &str, in_reply_to: &str, body: &str) -> Vec<u8> {
    let mut mail = format!(
        "From: {from}\r\nTo: support@confer.test\r\nSubject: {subject}\r\nMessage-ID: {id}\r\nDate: Mon, 16 Nov 2026 10:00:00 +0000\r\n"
    );
    if !in_reply_to.is_empty() {
        mail.push_str(&format!(
            "In-Reply-To: {in_reply_to}\r\nReferences: {in_reply_to}\r\n"
        ));
    }
    mail.push_str(&format!(
        "Content-Type: text/plain; charset=utf-8\r\n\r\n{body}\r\n"
    ));
    mail.into_bytes()
}

/// The Reply-To of the latest notification email to `email`.
fn reply_address_of(app: &TestApp, email: &str) -> String {
    use confer::db::schema::outbox;
    use diesel::prelude::*;
    outbox::table
        .filter(outbox::kind.eq("notification"))
        .filter(outbox::recipient.eq(email))
        .order(outbox::id.desc())
        .select(outbox::reply_to.assume_not_null())
        .first::<String>(&mut app.conn())
        .expect("a notification with a Reply-To")
}

fn team_reply(from: &str, to: &str) -> Vec<u8> {
    fixture_text("team_reply.eml")
        .replace("\"Sam Agent\" <sam@confer.test>", from)
        .replace("support+NOTE_TOKEN@confer.test", to)
        .replace(
            "<team-1@confer.test>",
            &format!("<team-{}@confer.test>", rand::random::<u32>()),
        )
        .into_bytes()
}
