//! The conversations workspace: visibility in every list, count and URL;
//! what collaborators may and may not do; replies through the outbox with
//! threading headers to a real SMTP server; notes that never leave.

use chrono::Duration;

use crate::db_test;
use crate::smtp::SmtpSink;
use crate::support::*;

mod access;
mod folders;
mod mentions;
mod workflow;

/// Support and Billing teams; a team-only agent and collaborator in Support.
fn workspace(app: &TestApp) -> (i64, i64, i64) {
    let support = app.team("Support");
    let billing = app.team("Billing");
    app.user("agent@acme.test", "Alan Agent")
        .in_team(support)
        .teams_only()
        .create();
    app.user("collab@acme.test", "Cora Collaborator")
        .collaborator()
        .in_team(support)
        .teams_only()
        .create();
    let carl = app.customer_with_phone();
    (support, billing, carl)
}
