//! The knowledge base: what collaborators may and may not do (with the
//! database unchanged on refusal), the public help center never showing a
//! draft, revisions and their diff, languages, ordering and search.

use crate::db_test;
use crate::support::*;

/// A category "Getting started" with a section "Accounts", a published
/// article and a draft, written by the manager. Returns (section, published, draft).
fn knowledge_base(app: &TestApp) -> (i64, i64, i64) {
    app.staff();
    let mut manager = app.sign_in("manager@acme.test");
    assert_eq!(
        manager
            .post_form(
                "/kb/categories",
                &[("name", "Getting started"), ("description", "First steps")]
            )
            .status,
        303
    );
    let category = app.count("kb_categories");
    assert_eq!(
        manager
            .post_form(
                "/kb/sections",
                &[("name", "Accounts"), ("category", &category.to_string())]
            )
            .status,
        303
    );
    let section = app.count("kb_sections");
    let create = |manager: &mut Client, title: &str, body: &str| {
        let response = manager.post_form(
            "/kb/articles/new",
            &[
                ("section", &section.to_string()),
                ("language", "en"),
                ("title", title),
                ("body", body),
            ],
        );
        response.expect_redirect("/kb/articles/*");
        response
            .location
            .expect("location")
            .trim_start_matches("/kb/articles/")
            .split('?')
            .next()
            .expect("id")
            .parse::<i64>()
            .expect("id")
    };
    let published = create(
        &mut manager,
        "Reset your password",
        "Open **Settings** and choose *Reset*.\n\nThe link is valid for one hour.",
    );
    let draft = create(
        &mut manager,
        "Two-factor sign-in",
        "Secret plans for the zebracorn rollout.",
    );
    assert_eq!(
        manager
            .post_form(&format!("/kb/articles/{published}/publish"), &[])
            .status,
        303
    );
    (section, published, draft)
}

fn body_of(app: &TestApp, id: i64) -> String {
    use confer::db::schema::kb_articles;
    use diesel::prelude::*;
    kb_articles::table
        .find(id)
        .select(kb_articles::body)
        .first(&mut app.conn())
        .expect("article")
}

db_test!(collaborators_edit_existing_drafts_and_nothing_else, |app| {
    let app = app.with_org();
    let (section, published, draft) = knowledge_base(&app);
    let mut cora = app.sign_in("collab@acme.test");

    // They read both, in-app; the Edit button is on the draft only.
    let list = cora.get("/kb");
    assert_eq!(list.status, 200);
    assert!(list.body.contains("Reset your password") && list.body.contains("Two-factor sign-in"));
    assert!(
        !list.body.contains("href=\"/kb/articles/new\""),
        "no New article for them"
    );
    let on_draft = cora.get(&format!("/kb/articles/{draft}"));
    assert!(
        on_draft
            .body
            .contains(&format!("href=\"/kb/articles/{draft}/edit\""))
    );
    assert!(!on_draft.body.contains("/publish\"") && !on_draft.body.contains("/delete\""));
    let on_published = cora.get(&format!("/kb/articles/{published}"));
    assert!(
        !on_published.body.contains("/edit\""),
        "no Edit on a published article"
    );

    // Saving a draft works and keeps a revision.
    let revisions = app.count("kb_revisions");
    let saved = cora.post_form(
        &format!("/kb/articles/{draft}/edit"),
        &[
            ("section", &section.to_string()),
            ("title", "Two-factor sign-in"),
            ("body", "Use an authenticator app."),
        ],
    );
    saved.expect_redirect("/kb/articles/*");
    assert_eq!(body_of(&app, draft), "Use an authenticator app.");
    assert_eq!(app.count("kb_revisions"), revisions + 1);
    let collaborator = app.user_id("collab@acme.test");
    assert_eq!(
        app.count(&format!(
            "kb_articles WHERE id = {draft} AND editor_id = {collaborator} AND state = 'draft'"
        )),
        1
    );

    // Everything else is refused with 403, and nothing changes.
    let before = (
        app.count("kb_articles"),
        app.count("kb_revisions"),
        app.count("kb_articles WHERE state = 'published'"),
        app.count("kb_categories"),
        app.count("kb_sections"),
        body_of(&app, published),
    );
    let refused: Vec<(String, Vec<(&str, String)>)> = vec![
        (
            "/kb/articles/new".into(),
            vec![
                ("section", section.to_string()),
                ("language", "en".into()),
                ("title", "Mine".into()),
                ("body", "New".into()),
            ],
        ),
        (
            format!("/kb/articles/{published}/edit"),
            vec![
                ("section", section.to_string()),
                ("title", "Hacked".into()),
                ("body", "Hacked".into()),
            ],
        ),
        (format!("/kb/articles/{draft}/publish"), vec![]),
        (format!("/kb/articles/{published}/unpublish"), vec![]),
        (format!("/kb/articles/{draft}/delete"), vec![]),
        (format!("/kb/articles/{published}/delete"), vec![]),
        (
            format!("/kb/articles/{draft}/move"),
            vec![("direction", "up".into())],
        ),
        ("/kb/categories".into(), vec![("name", "Mine".into())]),
        (
            "/kb/sections".into(),
            vec![("name", "Mine".into()), ("category", "1".into())],
        ),
        (format!("/kb/sections/{section}/delete"), vec![]),
    ];
    for (path, fields) in &refused {
        let fields: Vec<(&str, &str)> = fields.iter().map(|(k, v)| (*k, v.as_str())).collect();
        assert_eq!(cora.post_form(path, &fields).status, 403, "POST {path}");
    }
    for path in [
        "/kb/articles/new".to_string(),
        format!("/kb/articles/{published}/edit"),
        "/kb/categories".into(),
    ] {
        assert_eq!(cora.get(&path).status, 403, "GET {path}");
    }
    let after = (
        app.count("kb_articles"),
        app.count("kb_revisions"),
        app.count("kb_articles WHERE state = 'published'"),
        app.count("kb_categories"),
        app.count("kb_sections"),
        body_of(&app, published),
    );
    assert_eq!(before, after, "the database is unchanged");

    // Agents create drafts but do not publish or touch published articles.
    let mut alan = app.sign_in("agent@acme.test");
    assert_eq!(
        alan.post_form(&format!("/kb/articles/{draft}/publish"), &[])
            .status,
        403
    );
    assert_eq!(
        alan.get(&format!("/kb/articles/{published}/edit")).status,
        403
    );
    let created = alan.post_form(
        "/kb/articles/new",
        &[
            ("section", &section.to_string()),
            ("language", "en"),
            ("title", "Printer FAQ"),
            ("body", "Turn it off."),
        ],
    );
    created.expect_redirect("/kb/articles/*");
    assert_eq!(
        app.count("kb_articles WHERE title = 'Printer FAQ' AND state = 'draft'"),
        1
    );
});

db_test!(the_public_help_center_never_shows_a_draft, |app| {
    let app = app.with_org();
    let (section, published, draft) = knowledge_base(&app);
    let mut visitor = app.client();

    let home = visitor.get("/help");
    assert_eq!(home.status, 200);
    assert!(home.body.contains("Reset your password"));
    assert!(!home.body.contains("Two-factor"), "drafts are not listed");
    assert!(
        home.body
            .contains("<link rel=\"canonical\" href=\"http://127.0.0.1/help\">")
    );

    let page = visitor.get(&format!("/help/articles/{published}-reset-your-password"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("<h1>Reset your password</h1>"));
    assert!(page.body.contains("<strong>Settings</strong>"));
    assert!(page.body.contains(&format!(
        "<link rel=\"canonical\" href=\"http://127.0.0.1/help/articles/{published}-reset-your-password\">"
    )));
    assert!(page.body.contains(
        "<meta name=\"description\" content=\"Open Settings and choose Reset. The link is valid for one hour.\">"
    ));
    assert!(page.body.contains("<html lang=\"en\">"));
    // An old or wrong slug moves permanently to the canonical address.
    let moved = visitor.get(&format!("/help/articles/{published}-old-title"));
    assert_eq!(moved.status, 301);
    assert_eq!(
        moved.location.as_deref(),
        Some(format!("/help/articles/{published}-reset-your-password").as_str())
    );

    // The draft: not by its address (slug or not), not in search, not in the sitemap.
    for path in [
        format!("/help/articles/{draft}-two-factor-sign-in"),
        format!("/help/articles/{draft}"),
        format!("/kb/articles/{draft}"),
    ] {
        let response = visitor.get(&path);
        assert!(
            response.status == 404 || (response.status == 303 && path.starts_with("/kb")),
            "{path}: {}",
            response.status
        );
        assert!(!response.body.contains("zebracorn"));
    }
    let search = visitor.get("/help/search?q=zebracorn");
    assert_eq!(search.status, 200);
    assert!(!search.body.contains("Two-factor"));
    assert!(
        visitor
            .get("/help/search?q=password")
            .body
            .contains("Reset your password")
    );
    let sitemap = visitor.get("/help/sitemap.xml");
    assert_eq!(
        sitemap.header("content-type"),
        Some("application/xml; charset=utf-8")
    );
    assert!(sitemap.body.contains(&format!(
        "<loc>http://127.0.0.1/help/articles/{published}-reset-your-password</loc>"
    )));
    assert!(sitemap.body.contains(&format!(
        "<loc>http://127.0.0.1/help/sections/{section}-accounts</loc>"
    )));
    assert!(!sitemap.body.contains(&format!("/help/articles/{draft}-")));

    // Unpublishing takes it off the public center at once.
    let mut manager = app.sign_in("manager@acme.test");
    manager
        .post_form(&format!("/kb/articles/{published}/unpublish"), &[])
        .expect_done();
    assert_eq!(
        visitor
            .get(&format!("/help/articles/{published}-reset-your-password"))
            .status,
        404
    );
    assert_eq!(
        visitor
            .get(&format!("/help/sections/{section}-accounts"))
            .status,
        404
    );
    assert!(
        !visitor
            .get("/help/sitemap.xml")
            .body
            .contains("/help/articles/")
    );
});

db_test!(
    visitors_read_their_language_when_there_is_a_version,
    |app| {
        let app = app.with_org();
        let (_, published, _) = knowledge_base(&app);
        let mut manager = app.sign_in("manager@acme.test");
        let form = manager.get(&format!(
            "/kb/articles/new?translation_of={published}&language=es"
        ));
        assert_eq!(form.status, 200);
        assert!(
            form.body.contains("Open **Settings**"),
            "a translation starts from the original"
        );
        let created = manager.post_form(
            "/kb/articles/new",
            &[
                ("section", "1"),
                ("language", "es"),
                ("title", "Restablecer la contraseña"),
                ("body", "Abre **Ajustes**."),
                ("translation_of", &published.to_string()),
            ],
        );
        created.expect_redirect("/kb/articles/*");
        let spanish = app.count("kb_articles");
        // The same language twice is refused.
        let again = manager.post_form(
            "/kb/articles/new",
            &[
                ("section", "1"),
                ("language", "es"),
                ("title", "Otra"),
                ("body", "x"),
                ("translation_of", &published.to_string()),
            ],
        );
        assert_eq!(again.status, 422);
        assert!(again.body.contains("already exists in that language"));

        let mut visitor = app.client();
        // Unpublished translation: Spanish visitors still get the English original.
        assert!(
            visitor
                .get("/help?lang=es")
                .body
                .contains("Reset your password")
        );
        manager
            .post_form(&format!("/kb/articles/{spanish}/publish"), &[])
            .expect_done();
        let spanish_home = visitor.get("/help?lang=es");
        assert!(spanish_home.body.contains("Restablecer la contraseña"));
        assert!(!spanish_home.body.contains("Reset your password"));
        visitor.accept_language = Some("es-ES,es;q=0.9".into());
        assert!(
            visitor
                .get("/help")
                .body
                .contains("Restablecer la contraseña")
        );
        visitor.accept_language = Some("de".into());
        assert!(
            visitor.get("/help").body.contains("Reset your password"),
            "no German version: the original"
        );
        let page = visitor.get(&format!(
            "/help/articles/{spanish}-restablecer-la-contrasena"
        ));
        assert_eq!(page.status, 200, "{:?}", page.location);
        assert!(page.body.contains("<html lang=\"es\">"));
        assert!(page.body.contains(&format!("hreflang=\"en\" href=\"http://127.0.0.1/help/articles/{published}-reset-your-password\"")));
        // The language switcher on the English page leads to the Spanish one.
        let switched = visitor.get(&format!(
            "/help/articles/{published}-reset-your-password?lang=es"
        ));
        assert_eq!(switched.status, 302);
        assert_eq!(
            switched.location,
            Some(format!(
                "/help/articles/{spanish}-restablecer-la-contrasena"
            ))
        );
    }
);

db_test!(revisions_keep_who_and_when_and_show_a_diff, |app| {
    let app = app.with_org();
    let (section, _, draft) = knowledge_base(&app);
    let mut cora = app.sign_in("collab@acme.test");
    cora.post_form(
        &format!("/kb/articles/{draft}/edit"),
        &[
            ("section", &section.to_string()),
            ("title", "Two-factor sign-in"),
            ("body", "Use an authenticator app.\nKeep backup codes."),
        ],
    )
    .expect_done();
    let mut manager = app.sign_in("manager@acme.test");
    manager
        .post_form(
            &format!("/kb/articles/{draft}/edit"),
            &[
                ("section", &section.to_string()),
                ("title", "Two-factor sign-in"),
                (
                    "body",
                    "Use an authenticator app.\nKeep backup codes somewhere safe.",
                ),
            ],
        )
        .expect_done();
    manager
        .post_form(&format!("/kb/articles/{draft}/publish"), &[])
        .expect_done();
    assert_eq!(
        app.count(&format!("kb_revisions WHERE article_id = {draft}")),
        4
    );
    let ids: Vec<i64> = {
        use confer::db::schema::kb_revisions;
        use diesel::prelude::*;
        kb_revisions::table
            .filter(kb_revisions::article_id.eq(draft))
            .order(kb_revisions::id)
            .select(kb_revisions::id)
            .load(&mut app.conn())
            .expect("revisions")
    };
    let page = cora.get(&format!("/kb/articles/{draft}/revisions"));
    assert_eq!(page.status, 200);
    assert!(page.body.contains("Cora Collaborator") && page.body.contains("Mia Manager"));
    assert!(page.body.contains("Published"));
    let diff = cora.get(&format!(
        "/kb/articles/{draft}/revisions?from={}&to={}",
        ids[1], ids[2]
    ));
    assert!(diff.body.contains("Changes from revision 2 to 3"));
    assert!(diff.body.contains("<del class=\"diff-line diff-del\"><span class=\"visually-hidden\">Removed: </span>Keep backup codes.</del>"), "{}", diff.body);
    assert!(diff.body.contains("<ins class=\"diff-line diff-add\"><span class=\"visually-hidden\">Added: </span>Keep backup codes somewhere safe.</ins>"));
    assert!(
        diff.body
            .contains("<span class=\"diff-line\">Use an authenticator app.</span>")
    );
});

db_test!(
    categories_sections_and_articles_are_ordered_by_hand,
    |app| {
        let app = app.with_org();
        let (section, first, _) = knowledge_base(&app);
        let mut manager = app.sign_in("manager@acme.test");
        for title in ["Second article", "Third article"] {
            manager
                .post_form(
                    "/kb/articles/new",
                    &[
                        ("section", &section.to_string()),
                        ("language", "en"),
                        ("title", title),
                        ("body", "Text"),
                    ],
                )
                .expect_done();
            let id = app.count("kb_articles");
            manager
                .post_form(&format!("/kb/articles/{id}/publish"), &[])
                .expect_done();
        }
        let third = app.count("kb_articles");
        let position =
            |text: &str, body: &str| body.find(text).unwrap_or_else(|| panic!("{text} missing"));
        // Order: Reset, (the draft), Second, Third. Three places up is the top.
        for _ in 0..3 {
            manager
                .post_form(
                    &format!("/kb/articles/{third}/move"),
                    &[("direction", "up")],
                )
                .expect_done();
        }
        let help = app
            .client()
            .get(&format!("/help/sections/{section}-accounts"))
            .body;
        assert!(position("Third article", &help) < position("Reset your password", &help));
        assert!(position("Reset your password", &help) < position("Second article", &help));
        for _ in 0..2 {
            manager
                .post_form(
                    &format!("/kb/articles/{first}/move"),
                    &[("direction", "down")],
                )
                .expect_done();
        }
        let help = app
            .client()
            .get(&format!("/help/sections/{section}-accounts"))
            .body;
        assert!(position("Second article", &help) < position("Reset your password", &help));

        manager
            .post_form("/kb/categories", &[("name", "Billing")])
            .expect_done();
        let billing = app.count("kb_categories");
        manager
            .post_form(
                &format!("/kb/categories/{billing}/move"),
                &[("direction", "up")],
            )
            .expect_done();
        let page = manager.get("/kb/categories").body;
        assert!(
            position("<h2 id=\"cat-2\">Billing", &page)
                < position("<h2 id=\"cat-1\">Getting started", &page)
        );
        // A category with sections is not deleted; an empty one is.
        let refused = manager.post_form("/kb/categories/1/delete", &[]);
        assert_eq!(refused.status, 422);
        assert!(
            refused
                .body
                .contains("Only an empty category can be deleted")
        );
        assert_eq!(
            manager
                .post_form(&format!("/kb/categories/{billing}/delete"), &[])
                .status,
            303
        );
        assert_eq!(app.count("kb_categories"), 1);
    }
);

db_test!(agents_find_article_links_for_replies, |app| {
    let app = app.with_org();
    let (_, published, _) = knowledge_base(&app);
    let mut alan = app.sign_in("agent@acme.test");
    let links = alan.get("/kb/links?q=password");
    assert_eq!(links.status, 200);
    let json: serde_json::Value = serde_json::from_str(&links.body).expect("json");
    assert_eq!(
        json,
        serde_json::json!([{
            "title": "Reset your password",
            "url": format!("http://127.0.0.1/help/articles/{published}-reset-your-password"),
            "language": "en"
        }])
    );
    let drafts: serde_json::Value =
        serde_json::from_str(&alan.get("/kb/links?q=zebracorn").body).expect("json");
    assert_eq!(
        drafts,
        serde_json::json!([]),
        "drafts are never offered to customers"
    );
    // In-app search finds drafts too, for the team.
    assert!(
        alan.get("/kb?q=zebracorn")
            .body
            .contains("Two-factor sign-in")
    );
});
