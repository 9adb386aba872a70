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

db_test!(
    the_composer_previews_takes_dropped_files_and_keeps_its_place,
    |app| {
        let app = app.with_org();
        let support = app.staff();
        let carla = app.customer("Carla Customer", "carla@example.com");
        let conversation = app.conversation("Printer on fire", carla, Some(support), None, "open");
        // A long thread, so that coming back "at the message" means scrolling.
        for n in 0..12 {
            app.sql(&format!(
            "INSERT INTO messages (conversation_id, kind, author_customer_id, body, source, created_at) \
             VALUES ({conversation}, 'customer', {carla}, 'Earlier message {n}', 'email', '2026-01-01 00:00:00')"
        ));
        }
        let alan = Browser::open(&app, "composer");
        alan.sign_in("agent@acme.test");
        alan.goto(&format!("/conversations/{conversation}"));
        alan.click("#tab-note");
        alan.type_more("#note", "The **fuser** is at fault.");
        alan.click("[data-preview-for=note]");
        alan.wait_for_text("#note-preview", "fuser");
        assert_eq!(
            alan.script("return document.querySelector('#note-preview strong').textContent"),
            serde_json::json!("fuser")
        );
        alan.check_page("preview");
        // A file dropped onto the form joins its file field.
        let chosen = alan.script(
        "const dt = new DataTransfer();
         dt.items.add(new File(['hello'], 'fuser-log.txt', { type: 'text/plain' }));
         const form = document.getElementById('note-form');
         form.dispatchEvent(new DragEvent('drop', { dataTransfer: dt, bubbles: true, cancelable: true }));
         return document.getElementById('note-files').files.length;",
    );
        assert_eq!(chosen, serde_json::json!(1));
        alan.wait_for_text("#note-form .files-chosen", "fuser-log.txt");
        alan.click("#note-form button[type=submit]");
        alan.wait_for(|p| p.starts_with(&format!("/conversations/{conversation}?notice=noted")));
        assert_eq!(app.count("attachments WHERE filename = 'fuser-log.txt'"), 1);
        // Back at the note just added, on screen.
        let note = app.newest_message(conversation);
        assert_eq!(
            alan.script("return location.hash"),
            serde_json::json!(format!("#message-{note}"))
        );
        let at = alan.script(
            "const r = document.querySelector(location.hash).getBoundingClientRect();
             return [r.top, window.innerHeight, window.scrollY, document.activeElement.id];",
        );
        let top = at[0].as_f64().unwrap_or(-1.0);
        let height = at[1].as_f64().unwrap_or(0.0);
        assert!(
            top >= 0.0 && top < height && at[2].as_f64().unwrap_or(0.0) > 0.0,
            "the note is on screen: {at}"
        );
    }
);
