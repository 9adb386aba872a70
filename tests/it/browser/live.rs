//! In Chromium, two agents on one conversation: the first sees the second
//! arrive, start a reply ("Replying now"), and the reply appear in the
//! thread without reloading.

use super::*;

db_test!(
    a_second_agent_is_seen_replying_and_their_reply_appears,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let carla = app.customer("Carla Customer", "carla@example.com");
        let conversation = app.conversation("Printer on fire", carla, Some(support), None, "open");
        let path = format!("/conversations/{conversation}");
        let alan = Browser::open(&app, "live-first");
        alan.sign_in("agent@acme.test");
        alan.goto(&path);
        let mia = Browser::open(&app, "live-second");
        mia.sign_in("manager@acme.test");
        mia.goto(&path);
        alan.wait_for_text("[data-presence]", "Viewing now: Mia Manager");
        mia.click("#tab-reply");
        mia.type_more("#reply", "Mia here: the printer is fixed.");
        alan.wait_for_text("[data-presence]", "Replying now: Mia Manager");
        alan.check_both_widths("someone-replying");
        mia.click("#reply-form button[type=submit]:not([name])");
        mia.wait_for(|p| p.starts_with(&format!("{path}?notice=replied")));
        // Without a reload, Alan's thread shows it.
        alan.wait_for_text("ol.thread", "Mia here: the printer is fixed.");
        assert_eq!(alan.path(), path, "no navigation happened");
        alan.check_page("reply-appeared");
    }
);
