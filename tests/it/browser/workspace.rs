//! In Chromium: replies and notes, emailed conversations with files, the help center and a collaborator's draft, reports and tasks.

use super::*;

db_test!(an_agent_replies_and_a_collaborator_adds_a_note, |app| {
    let app = app.with_org();
    let support = app.staff();
    let carl = app.customer_with_phone();
    let alan = app.user_id("agent@acme.test");
    let id = app.conversation("Printer on fire", carl, Some(support), Some(alan), "open");
    let written = app.clock.now() - chrono::Duration::minutes(50);
    app.sql(&format!(
        "INSERT INTO messages (conversation_id, kind, author_customer_id, body, created_at) \
         VALUES ({id}, 'customer', {carl}, 'The printer in room 4 smokes and smells of burnt toner.', '{}')",
        written.format("%Y-%m-%d %H:%M:%S")
    ));
    let agent = Browser::open(&app, "conversation-agent");
    agent.sign_in("agent@acme.test");
    agent.click("nav.mainnav a[href='/conversations']");
    agent.wait_for_path("/conversations");
    // The row: unread, the newest message's beginning, how long Carl waits.
    agent.wait_for_text("tr.row--unread .cell-subject", "smells of burnt toner");
    agent.wait_for_text("tr.row--unread .cell-when", "Waiting 50 min");
    agent.check_page("inbox");
    agent.click(&format!("a[href='/conversations/{id}']"));
    agent.wait_for_path(&format!("/conversations/{id}"));
    agent.fill("#reply", "Please **unplug** it.");
    agent.click("#reply-form button[type=submit]");
    agent.wait_for_path(&format!("/conversations/{id}?notice=replied"));
    // One composer: the Note tab shows the note form in place of the reply.
    let visible = |css: &str| {
        agent.script(&format!(
            "return !document.querySelector('{css}').closest('[hidden]')"
        ))
    };
    assert_eq!(visible("#reply"), serde_json::json!(true));
    assert_eq!(visible("#note"), serde_json::json!(false));
    agent.click("#tab-note");
    assert_eq!(visible("#reply"), serde_json::json!(false));
    // The suggestion list offers Cora after "@Cor"; choosing inserts her name.
    agent.fill("#note", "@Cor");
    agent.wait_for_text("#mention-list", "Cora Collaborator");
    agent.check_page("mention-list-open");
    agent.click("#mention-list li");
    agent.type_more("#note", "is this the batch with the bad toner?");
    let typed = agent.script("return document.querySelector('#note').value");
    assert_eq!(
        typed.as_str(),
        Some("@Cora Collaborator is this the batch with the bad toner?")
    );
    agent.click("#note-form button[type=submit]");
    agent.wait_for_path(&format!("/conversations/{id}?notice=noted"));
    // The last choice is remembered: the page comes back on the Note tab.
    assert_eq!(visible("#note"), serde_json::json!(true));
    assert_eq!(visible("#reply"), serde_json::json!(false));
    agent.check_both_widths("conversation-workspace");

    let collaborator = Browser::open(&app, "conversation-collaborator");
    collaborator.sign_in("collab@acme.test");
    assert!(
        collaborator.text("[data-testid=unread]").contains('1'),
        "the bell shows the mention"
    );
    collaborator.check_both_widths("home-collaborator");
    collaborator.click("a.bell");
    collaborator.wait_for_path("/notifications");
    collaborator.check_page("notifications");
    collaborator.goto(&format!("/conversations/{id}"));
    assert_eq!(collaborator.body_class(), "layout-collaborator");
    let reply_controls = collaborator.script(
        "return document.querySelectorAll('#reply, #reply-form, form[action$=\"/reply\"], form[action$=\"/properties\"]').length",
    );
    assert_eq!(
        reply_controls.as_u64(),
        Some(0),
        "no reply or property controls"
    );
    collaborator.check_both_widths("conversation-collaborator");
    collaborator.fill("#note", "Yes — batch 42. Replace the cartridge.");
    collaborator.click("#note-form button[type=submit]");
    collaborator.wait_for_path(&format!("/conversations/{id}?notice=noted"));

    agent.goto(&format!("/conversations/{id}"));
    agent.wait_for_text(".thread", "Replace the cartridge.");
    agent.goto("/search?q=cartridge");
    agent.wait_for_text("main", "Printer on fire");
    agent.check_page("search");
    assert_eq!(
        app.count("outbox WHERE kind = 'reply'"),
        1,
        "only the reply goes to the customer"
    );
});

db_test!(an_emailed_conversation_with_files_in_the_browser, |app| {
    let app = app.with_org();
    let support = app.staff();
    app.sql(&format!(
        "UPDATE org_settings SET intake_team_id = {support}"
    ));
    let token = app.inbound_token();
    let fixtures = concat!(env!("CARGO_MANIFEST_DIR"), "/tests/fixtures/mail");
    let mut mta = app.client();
    let logo = mta.post_mail(
        &token,
        &std::fs::read(format!("{fixtures}/inline_image.eml")).expect("fixture"),
    );
    assert_eq!(logo.status, 200, "{}", logo.body);
    let id: serde_json::Value = serde_json::from_str(&logo.body).expect("json");
    let id = id["conversation_id"].as_i64().expect("conversation");
    let outlook = std::fs::read_to_string(format!("{fixtures}/outlook_original_message.eml"))
        .expect("fixture")
        .replace(
            "Subject: RE: Invoice question",
            &format!("Subject: RE: Logo [#{id}]"),
        );
    assert_eq!(mta.post_mail(&token, outlook.as_bytes()).status, 200);

    let browser = Browser::open(&app, "email");
    browser.sign_in("agent@acme.test");
    browser.goto(&format!("/conversations/{id}"));
    browser.wait_for_text(".thread", "Any news?");
    // The inline image really loads (served by Confer, nothing remote).
    // (Polled: the image may still be on its way when the text is there.)
    let natural_width =
        || browser.script("return document.querySelector('img.attachment-image').naturalWidth");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    while natural_width().as_u64() == Some(0) && std::time::Instant::now() < deadline {
        std::thread::sleep(std::time::Duration::from_millis(50));
    }
    assert_eq!(natural_width().as_u64(), Some(1), "the 1x1 logo is shown");
    // Quoted history is folded away until asked for.
    let hidden =
        browser.script("const d = document.querySelector('details.quoted'); return d.open");
    assert_eq!(hidden.as_bool(), Some(false));
    browser.click("details.quoted summary");
    browser.wait_for_text("details.quoted", "Please send us the invoice number.");
    browser.check_page("email-conversation");

    // A reply with a file chosen in the file input.
    let file = std::env::temp_dir().join(format!("confer-upload-{}.txt", rand::random::<u32>()));
    std::fs::write(&file, "step 1: unplug\n").expect("file");
    browser.fill("#reply", "The steps are attached.");
    browser.fill("#reply-files", &file.to_string_lossy());
    browser.click("#reply-form button[type=submit]");
    browser.wait_for_path(&format!("/conversations/{id}?notice=replied"));
    let name = file
        .file_name()
        .expect("name")
        .to_string_lossy()
        .into_owned();
    browser.wait_for_text(".thread", &name);
    let _ = std::fs::remove_file(&file);
    assert_eq!(app.count("outbox_attachments"), 1);

    browser.click("form[action='/logout'] button[type=submit]");
    browser.wait_for_path("/login?signed_out=1");
    browser.sign_in("owner@acme.test");
    browser.goto("/settings/email");
    browser.wait_for_text("main", "Added to conversation");
    browser.check_page("email-settings");
});

db_test!(the_help_center_and_a_collaborator_editing_a_draft, |app| {
    let app = app.with_org();
    app.staff();
    let mut manager = app.sign_in("manager@acme.test");
    manager
        .post_form("/kb/categories", &[("name", "Getting started")])
        .expect_done();
    manager
        .post_form("/kb/sections", &[("name", "Accounts"), ("category", "1")])
        .expect_done();
    for (title, body) in [
        (
            "Reset your password",
            "Open **Settings** and choose *Reset*.\n\n- Check your inbox\n- Follow the link",
        ),
        ("Two-factor sign-in", "Draft: use an authenticator app."),
    ] {
        let created = manager.post_form(
            "/kb/articles/new",
            &[
                ("section", "1"),
                ("language", "en"),
                ("title", title),
                ("body", body),
            ],
        );
        created.expect_redirect("/kb/articles/*");
    }
    manager
        .post_form("/kb/articles/1/publish", &[])
        .expect_done();

    let visitor = Browser::open(&app, "help");
    visitor.goto("/help");
    visitor.wait_for_text("main", "Reset your password");
    assert!(
        !visitor.text("main").contains("Two-factor"),
        "no drafts in public"
    );
    visitor.check_page("help-home");
    visitor.click("a[href='/help/articles/1-reset-your-password']");
    visitor.wait_for_path("/help/articles/1-reset-your-password");
    visitor.wait_for_text("article h1", "Reset your password");
    visitor.check_page("help-article");
    visitor.goto("/help");
    visitor.fill("#help-q", "password");
    visitor.click("form.help-search button[type=submit]");
    visitor.wait_for_text("main", "Reset your password");
    visitor.check_page("help-search");

    let collaborator = Browser::open(&app, "kb-collaborator");
    collaborator.sign_in("collab@acme.test");
    collaborator.goto("/kb");
    collaborator.check_page("kb-collaborator");
    collaborator.goto("/kb/articles/2");
    collaborator.click("a[href='/kb/articles/2/edit']");
    collaborator.wait_for_path("/kb/articles/2/edit");
    collaborator.check_page("kb-edit-draft");
    collaborator.fill(
        "#body",
        "Use an authenticator app, and keep your backup codes.",
    );
    collaborator.click("form[action='/kb/articles/2/edit'] button[type=submit]");
    collaborator.wait_for_path("/kb/articles/2?notice=saved");
    collaborator.wait_for_text("article", "keep your backup codes");
    collaborator.check_page("kb-draft-saved");
    collaborator.goto("/kb/articles/2/revisions");
    collaborator.wait_for_text("[data-testid=diff]", "keep your backup codes");
    collaborator.check_page("kb-revisions");
    assert_eq!(app.count("kb_revisions WHERE article_id = 2"), 2);
});

db_test!(reports_and_tasks_in_the_browser, |app| {
    let app = app.with_org();
    let support = app.staff();
    let carl = app.customer_with_phone();
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    let mut owner = app.sign_in("owner@acme.test");
    owner
        .post_form(&format!("/conversations/{id}/reply"), &[("body", "On it.")])
        .expect_done();
    owner
        .post_form(
            &format!("/conversations/{id}/notes"),
            &[("body", "@Cora Collaborator have a look")],
        )
        .expect_done();

    let manager = Browser::open(&app, "reports");
    manager.sign_in("manager@acme.test");
    manager.click("nav.mainnav a[href='/reports']");
    manager.wait_for_path("/reports");
    manager.wait_for_text("[data-testid=times]", "First response");
    manager.check_both_widths("reports");
    // The chart's days in the reader's language.
    app.sql("UPDATE users SET language = 'de' WHERE email = 'manager@acme.test'");
    manager.goto("/reports");
    manager.wait_for_text("[data-testid=times]", "Erste Antwort");
    manager.check_both_widths("reports-de");
    app.sql("UPDATE users SET language = NULL WHERE email = 'manager@acme.test'");
    manager.goto(&format!("/tasks/new?conversation={id}"));
    manager.fill("#title", "Order toner");
    manager.click("form[action='/tasks/new'] button[type=submit]");
    manager.wait_for(|path| path.starts_with("/tasks/") && path.ends_with("?notice=created"));
    manager.check_page("task");
    manager.goto("/tasks?view=created");
    manager.check_page("tasks");
    manager.goto(&format!("/conversations/{id}"));
    manager.wait_for_text("#tasks-title", "Tasks");
    manager.check_page("conversation-with-tasks");
});

db_test!(an_agent_triages_the_inbox_by_keyboard, |app| {
    let app = app.with_org();
    let support = app.staff();
    let carl = app.customer_with_phone();
    let alan = app.user_id("agent@acme.test");
    let first = app.conversation("Printer on fire", carl, Some(support), Some(alan), "open");
    let second = app.conversation("Toner smudges", carl, Some(support), Some(alan), "open");
    let unassigned = app.conversation("Paper jam", carl, Some(support), None, "open");
    let agent = Browser::open(&app, "keyboard");
    agent.sign_in("agent@acme.test");
    let focused = || {
        agent
            .script(
                "return document.activeElement.getAttribute('href') || document.activeElement.id",
            )
            .as_str()
            .unwrap_or_default()
            .to_string()
    };
    // "g i" goes to the inbox; j and k move through its rows.
    agent.press("gi");
    agent.wait_for_path("/conversations");
    agent.press("j");
    let top = focused();
    agent.press("j");
    let below = focused();
    assert!(top.starts_with("/conversations/") && below.starts_with("/conversations/"));
    assert_ne!(top, below, "j moves down");
    agent.press("k");
    assert_eq!(focused(), top, "k moves up");
    // "o" opens it; "r" goes to the reply, which Ctrl+Enter sends.
    agent.press("o");
    agent.wait_for_path(&top);
    agent.press("r");
    assert_eq!(focused(), "reply");
    agent.type_more("#reply", "On it.");
    agent.press("\u{E009}\u{E007}");
    agent.wait_for_path(&format!("{top}?notice=replied"));
    // "e" marks it done.
    agent.press("e");
    agent.wait_for_path(&format!("{top}?notice=updated"));
    let done = |id: i64| {
        app.count(&format!(
            "conversations WHERE id = {id} AND status = 'done'"
        ))
    };
    assert_eq!(done(first) + done(second), 1, "one of the two is done");
    // Properties save as they change, without leaving the page.
    let before = agent.path();
    agent.script(
        "const p = document.querySelector('#priority'); p.value = 'urgent';
         p.dispatchEvent(new Event('change'));",
    );
    agent.wait_for_text("[data-properties-status]", "Saved.");
    assert_eq!(agent.path(), before, "the page stays");
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id IN ({first}, {second}) AND priority = 'urgent'"
        )),
        1,
        "the open conversation's priority"
    );
    // "Snoozed until" shows only while Snoozed is chosen.
    let snooze_shown = |status: &str| {
        agent.script(&format!(
            "const s = document.querySelector('#status'); s.value = '{status}';
             s.dispatchEvent(new Event('change'));
             return !document.querySelector('#snoozed_until').closest('[hidden]');"
        ))
    };
    assert_eq!(snooze_shown("open"), serde_json::json!(false));
    assert_eq!(snooze_shown("snoozed"), serde_json::json!(true));
    assert_eq!(snooze_shown("pending"), serde_json::json!(false));
    // "a" assigns to me; "?" lists the shortcuts, Escape closes the list.
    agent.goto(&format!("/conversations/{unassigned}"));
    agent.press("a");
    agent.wait_for_path(&format!("/conversations/{unassigned}?notice=updated"));
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {unassigned} AND assignee_id = {alan}"
        )),
        1
    );
    agent.press("?");
    assert_eq!(
        agent.script("return document.getElementById('shortcuts').open"),
        serde_json::json!(true)
    );
    agent.check_page("shortcuts");
    agent.press("\u{E00C}");
    assert_eq!(
        agent.script("return document.getElementById('shortcuts').open"),
        serde_json::json!(false)
    );
    // Typing in a field is typing, not a shortcut.
    agent.click("#tab-note");
    agent.click("#note");
    agent.press("e");
    assert_eq!(
        agent.path(),
        format!("/conversations/{unassigned}?notice=updated")
    );
    assert_eq!(
        agent.script("return document.querySelector('#note').value"),
        serde_json::json!("e")
    );
});

db_test!(a_phone_gets_one_short_bar_and_a_menu, |app| {
    let app = app.with_org();
    let support = app.staff();
    let carl = app.customer_with_phone();
    let alan = app.user_id("agent@acme.test");
    for subject in ["Printer on fire", "Toner smudges", "Paper jam"] {
        app.conversation(subject, carl, Some(support), Some(alan), "open");
    }
    let agent = Browser::open(&app, "phone-menu");
    agent.sign_in("agent@acme.test");
    agent.resize(390, 844);
    agent.goto("/conversations");
    let number = |js: &str| agent.script(js).as_f64().unwrap_or(f64::MAX);
    agent.screenshot("menu-closed-390");
    assert!(
        number("return document.querySelector('.topbar').getBoundingClientRect().height") <= 64.0,
        "one short bar"
    );
    let nav_shown = || {
        agent.script(
            "return getComputedStyle(document.getElementById('mainnav')).display !== 'none'",
        )
    };
    assert_eq!(
        nav_shown(),
        serde_json::json!(false),
        "the navigation waits behind Menu"
    );
    agent.click(".menu-toggle");
    assert_eq!(nav_shown(), serde_json::json!(true));
    assert_eq!(
        agent.script("return document.querySelector('.menu-toggle').getAttribute('aria-expanded')"),
        serde_json::json!("true")
    );
    agent.check_page("menu-open-390");
    // The inbox on a phone: cards, the filters folded, no bulk bar until
    // something is selected; the header box selects the whole page.
    agent.click(".menu-toggle");
    let shown = |css: &str| {
        agent.script(&format!(
            "const e = document.querySelector('{css}'); return !!e && !e.closest('[hidden]') && e.getClientRects().length > 0"
        ))
    };
    assert_eq!(shown("#bulk-form"), serde_json::json!(false));
    assert_eq!(
        agent.script("return document.querySelector('details[data-fold-on-phone]').open"),
        serde_json::json!(false),
        "filters folded"
    );
    assert_eq!(
        agent.script("return getComputedStyle(document.querySelector('.table--inbox tr')).display"),
        serde_json::json!("flex"),
        "rows as cards"
    );
    agent.check_both_widths("inbox");
    assert_eq!(
        agent.script("return document.querySelector('details[data-fold-on-phone]').open"),
        serde_json::json!(true),
        "widened, the filters unfold"
    );
    agent.resize(390, 844);
    assert_eq!(
        agent.script("return document.querySelector('details[data-fold-on-phone]').open"),
        serde_json::json!(false),
        "narrowed again, they fold"
    );
    agent.click(".table--inbox td.cell-select input");
    assert_eq!(shown("#bulk-form"), serde_json::json!(true), "the bulk bar");
    agent.resize(1366, 800);
    agent.click("th.cell-select input");
    assert_eq!(
        agent.script("return document.querySelectorAll('input[name=ids]:checked').length"),
        serde_json::json!(3)
    );
    agent.check_page("inbox-all-selected-1366");
    agent.resize(390, 844);
    // The menu reaches every page and ends with signing out.
    agent.click(".menu-toggle");
    agent.click("#mainnav a[href='/customers']");
    agent.wait_for_path("/customers");
    agent.click(".menu-toggle");
    agent.click("#mainnav .nav-signout button");
    agent.wait_for(|path| path.starts_with("/login"));
});

db_test!(trash_and_spam_in_the_browser, |app| {
    let app = app.with_org();
    let support = app.staff();
    let carl = app.customer_with_phone();
    let alan = app.user_id("agent@acme.test");
    let fire = app.conversation("Printer on fire", carl, Some(support), Some(alan), "open");
    let offer = app.conversation("Cheap toner offer", carl, Some(support), None, "open");

    // An agent moves one to Trash from its header: the page says until when.
    let agent = Browser::open(&app, "folders-agent");
    agent.sign_in("agent@acme.test");
    agent.goto(&format!("/conversations/{fire}"));
    agent.click(".conversation-moves button[value=trash]");
    agent.wait_for_path(&format!("/conversations/{fire}?notice=trashed"));
    agent.wait_for_text(".notice--warning", "In Trash since");
    agent.check_both_widths("trashed");
    agent.goto("/conversations?view=trash");
    agent.wait_for_text(".table--inbox", "Printer on fire");
    agent.check_both_widths("trash-view");

    // Marking the other as spam blocks Carl: his page says so, with Unblock.
    agent.goto(&format!("/conversations/{offer}"));
    agent.click(".conversation-moves button[value=spam]");
    agent.wait_for_path(&format!("/conversations/{offer}?notice=spam"));
    agent.wait_for_text(".notice--warning", "Marked as spam on");
    agent.goto(&format!("/customers/{carl}"));
    agent.wait_for_text(".notice--warning", "Blocked since");
    agent.check_both_widths("customer-blocked");

    // A manager works the Spam view; "Not spam" from its bulk bar.
    let manager = Browser::open(&app, "folders-manager");
    manager.sign_in("manager@acme.test");
    manager.resize(390, 844);
    manager.goto("/conversations?view=spam");
    manager.wait_for_text(".table--inbox", "Cheap toner offer");
    // On a phone the strip of views shows the current one, at its far end
    // (to the pixel: layout works in fractions).
    assert_eq!(
        manager.script(
            "const tab = document.querySelector('nav.tabs [aria-current]').getBoundingClientRect();
             const strip = document.querySelector('nav.tabs').getBoundingClientRect();
             return tab.left >= strip.left - 1 && tab.right <= strip.right + 1;"
        ),
        serde_json::json!(true)
    );
    manager.check_both_widths("spam-view");

    // The collaborator reads the trashed conversation with its banner and
    // no way to move it.
    let cora = Browser::open(&app, "folders-collaborator");
    cora.sign_in("collab@acme.test");
    cora.goto(&format!("/conversations/{fire}"));
    cora.wait_for_text(".notice--warning", "In Trash since");
    assert_eq!(
        cora.script("return document.querySelector('.conversation-moves') === null"),
        serde_json::json!(true)
    );
    cora.check_both_widths("trashed-collaborator");
});

db_test!(a_spanish_agent_reads_spanish_dates_and_plurals, |app| {
    let app = app.with_org();
    let support = app.staff();
    let billing = app.team("Facturación");
    app.user("lucia@acme.test", "Lucía Gómez")
        .language("es")
        .in_team(support)
        .in_team(billing)
        .create();
    app.sql("UPDATE users SET timezone = 'UTC'");
    let carl = app.customer_with_phone();
    for (subject, body) in [
        ("Impresora en llamas", "La impresora echa humo."),
        ("Impresora atascada", "La impresora no avanza."),
    ] {
        let id = app.conversation(subject, carl, Some(support), None, "open");
        app.sql(&format!(
            "INSERT INTO messages (conversation_id, kind, author_customer_id, body, created_at, source) \
             VALUES ({id}, 'customer', {carl}, '{body}', '2026-03-05 10:07:00', 'web')"
        ));
    }
    let browser = Browser::open(&app, "spanish");
    browser.sign_in("lucia@acme.test");
    browser.goto("/");
    let home = browser.text("main");
    assert!(
        home.contains("1 miembro") && home.contains("4 miembros"),
        "{home}"
    );
    browser.check_both_widths("home-es");

    browser.goto("/conversations?view=teams");
    let inbox = browser.text("main");
    assert!(inbox.contains("Esperando desde hace"), "{inbox}");
    assert!(inbox.contains("Sin asignar"), "{inbox}");
    browser.check_both_widths("inbox-es");

    browser.goto("/search?q=impresora");
    browser.wait_for_text("main", "2 conversaciones");
    browser.goto("/search?q=humo");
    browser.wait_for_text("main", "1 conversación");
    browser.check_both_widths("search-es");

    browser.click("main a[href^='/conversations/']");
    browser.wait_for_text("main", "05 mar 2026, 10:07");
    browser.check_both_widths("conversation-es");
});

db_test!(a_busy_inbox_and_conversation_at_both_widths, |app| {
    // A morning's queue as README shows it (docs/screenshots/ are copied
    // from this test's screenshots).
    let app = app.with_org();
    let support = app.staff();
    let alan = app.user_id("agent@acme.test");
    let mia = app.user_id("manager@acme.test");
    let ago = |minutes: i64| {
        (app.clock.now() - chrono::Duration::minutes(minutes))
            .format("%Y-%m-%d %H:%M:%S")
            .to_string()
    };
    // (subject, customer, priority, status, assignee, minutes since the
    // customer wrote, their words, whether we answered since)
    type Queued = (
        &'static str,
        &'static str,
        &'static str,
        &'static str,
        Option<i64>,
        i64,
        &'static str,
        bool,
    );
    let queue: [Queued; 6] = [
        (
            "Refund for order #4821",
            "Maya Patel",
            "urgent",
            "open",
            Some(alan),
            130,
            "The parcel came back to you two weeks ago and I still have no refund.",
            false,
        ),
        (
            "Can't sign in after the password reset",
            "Jonas Berg",
            "high",
            "open",
            None,
            25,
            "The reset link says it expired the moment I open it.",
            false,
        ),
        (
            "Invoice shows the wrong VAT number",
            "Aiko Tanaka",
            "normal",
            "pending",
            Some(mia),
            300,
            "Our VAT number is DE 811 569 869, the invoice has an old one.",
            true,
        ),
        (
            "Shipping to Norway?",
            "Lars Nilsen",
            "normal",
            "open",
            None,
            2 * 24 * 60,
            "Do you ship to Tromsø, and how long does it take?",
            false,
        ),
        (
            "Feature request: dark mode",
            "Priya Raman",
            "low",
            "open",
            Some(alan),
            26 * 60,
            "Our night shift would love a dark theme.",
            true,
        ),
        (
            "Printer on fire",
            "Carl Customer",
            "urgent",
            "open",
            Some(alan),
            8,
            "The printer in room 4 smokes and smells of burnt toner.",
            false,
        ),
    ];
    let mut first = 0;
    for (subject, name, priority, status, assignee, minutes, words, answered) in queue {
        let email = format!(
            "{}@customer.test",
            name.split(' ').next().unwrap_or("x").to_lowercase()
        );
        let customer = app.customer(name, &email);
        let id = app.conversation(subject, customer, Some(support), assignee, status);
        first = if first == 0 { id } else { first };
        app.sql(&format!(
            "INSERT INTO messages (conversation_id, kind, author_customer_id, body, created_at, source) \
             VALUES ({id}, 'customer', {customer}, '{words}', '{}', 'email')",
            ago(minutes)
        ));
        if answered {
            app.sql(&format!(
                "INSERT INTO messages (conversation_id, kind, author_user_id, body, created_at) \
                 VALUES ({id}, 'reply', {}, 'Thanks — we are on it and will write again today.', '{}')",
                assignee.unwrap_or(alan),
                ago(minutes - 5)
            ));
        }
        let last = if answered { minutes - 5 } else { minutes };
        app.sql(&format!(
            "UPDATE conversations SET priority = '{priority}', last_activity_at = '{}' WHERE id = {id}",
            ago(last)
        ));
        if answered {
            // Alan has seen the ones answered since.
            app.sql(&format!(
                "INSERT INTO conversation_reads (user_id, conversation_id, seen_activity_at) \
                 VALUES ({alan}, {id}, '{}')",
                ago(last)
            ));
        }
    }
    app.sql(&format!(
        "INSERT INTO saved_searches (user_id, team_id, name, query, created_at) VALUES \
         ({alan}, NULL, 'Refunds this week', 'q=refund', '{0}'), \
         ({alan}, {support}, 'VIP customers', 'tag=vip', '{0}')",
        ago(60)
    ));
    // A reply, then a note that asks a collaborator, on the first one.
    let mut agent = app.sign_in("agent@acme.test");
    agent
        .post_form(
            &format!("/conversations/{first}/reply"),
            &[(
                "body",
                "Sorry for the wait, Maya. I have asked finance to push it through today.",
            )],
        )
        .expect_done();
    agent
        .post_form(
            &format!("/conversations/{first}/notes"),
            &[(
                "body",
                "@Cora Collaborator can you confirm the return was booked in the warehouse system?",
            )],
        )
        .expect_done();

    let browser = Browser::open(&app, "busy");
    browser.sign_in("agent@acme.test");
    browser.goto("/conversations?view=teams&sort=waiting");
    let order = browser.script(
        "return [...document.querySelectorAll('.table--inbox .cell-subject a')].map(a => a.textContent.trim())",
    );
    assert!(
        order[0]
            .as_str()
            .is_some_and(|s| s.ends_with("Shipping to Norway?")),
        "the longest wait first: {order}"
    );
    browser.resize(1366, 800);
    assert!(
        browser
            .script(
                "const w = document.querySelector('.table--inbox').closest('.table-wrap'); \
                 return w.scrollWidth <= w.clientWidth"
            )
            .as_bool()
            .unwrap_or(false),
        "every column of the inbox shows at 1366 px"
    );
    browser.check_both_widths("inbox");
    // Opened on a phone, the order chosen before is no filter: they fold.
    browser.resize(390, 844);
    browser.goto("/conversations");
    assert_eq!(
        browser.script("return document.querySelector('details[data-fold-on-phone]').open"),
        serde_json::json!(false)
    );
    browser.check_page("inbox-phone");
    browser.goto(&format!("/conversations/{first}"));
    browser.wait_for_text("main", "warehouse system");
    browser.check_both_widths("conversation");

    let cora = Browser::open(&app, "busy-collaborator");
    cora.sign_in("collab@acme.test");
    cora.goto("/");
    cora.wait_for_text("main", "Refund for order #4821");
    cora.check_both_widths("collaborator-home");
    cora.goto(&format!("/conversations/{first}"));
    assert_eq!(
        cora.script(
            "return document.querySelector('#tab-reply, form[action$=\"/reply\"]') === null"
        ),
        serde_json::json!(true),
        "no reply for a collaborator"
    );
    cora.check_both_widths("collaborator-conversation");
});
