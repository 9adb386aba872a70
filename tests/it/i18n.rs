use confer::i18n::{Lang, Tr, keys};

#[test]
fn every_locale_has_every_key() {
    let english = keys(Lang::En);
    assert!(english.len() > 50, "English catalog looks truncated");
    for lang in Lang::ALL {
        let theirs = keys(lang);
        let missing: Vec<_> = english.iter().filter(|k| !theirs.contains(k)).collect();
        let extra: Vec<_> = theirs.iter().filter(|k| !english.contains(k)).collect();
        assert!(missing.is_empty(), "{lang:?} lacks {missing:?}");
        assert!(
            extra.is_empty(),
            "{lang:?} has keys English lacks: {extra:?}"
        );
    }
}

#[test]
fn placeholders_survive_translation() {
    for key in keys(Lang::En) {
        let english = Tr::new(Lang::En).get(key);
        for lang in [Lang::Es, Lang::De] {
            let other = Tr::new(lang).get(key);
            for placeholder in english
                .split('{')
                .skip(1)
                .filter_map(|p| p.split('}').next())
            {
                assert!(
                    other.contains(&format!("{{{placeholder}}}")),
                    "{lang:?} {key} lost {{{placeholder}}}: {other}"
                );
            }
        }
    }
}

#[test]
fn translations_are_really_translated() {
    assert_eq!(Tr::new(Lang::En).get("login.submit"), "Sign in");
    assert_ne!(Tr::new(Lang::Es).get("login.submit"), "Sign in");
    assert_ne!(Tr::new(Lang::De).get("login.submit"), "Sign in");
}

#[test]
fn accept_language_picks_the_best_supported_language() {
    assert_eq!(
        Lang::from_accept_language("de-DE,de;q=0.9,en;q=0.8"),
        Some(Lang::De)
    );
    assert_eq!(
        Lang::from_accept_language("fr-FR, es;q=0.5, en;q=0.4"),
        Some(Lang::Es)
    );
    assert_eq!(Lang::from_accept_language("fr, ja"), None);
    assert_eq!(
        Lang::from_accept_language("en;q=0.2, de;q=0.9"),
        Some(Lang::De)
    );
}

#[test]
fn plurals_follow_each_languages_rules() {
    let cases = [
        (
            Lang::En,
            "1 conversation",
            "2 conversations",
            "0 conversations",
        ),
        (
            Lang::Es,
            "1 conversación",
            "2 conversaciones",
            "0 conversaciones",
        ),
        (
            Lang::De,
            "1 Konversation",
            "2 Konversationen",
            "0 Konversationen",
        ),
    ];
    for (lang, one, two, zero) in cases {
        let t = Tr::new(lang);
        assert_eq!(t.fmt("search.results", &[("count", "1")]), one);
        assert_eq!(t.fmt("search.results", &[("count", "2")]), two);
        assert_eq!(t.fmt("search.results", &[("count", "0")]), zero);
    }
    let t = Tr::new(Lang::En);
    assert_eq!(
        t.fmt("roles.users", &[("count", "1")]),
        "1 user holds this role."
    );
    assert_eq!(
        t.fmt("roles.users", &[("count", "3")]),
        "3 users hold this role."
    );
    assert!(
        t.fmt("users.error.allowance", &[("allowed", "1"), ("used", "1")])
            .starts_with("Your organisation may have 1 collaborator and has 1.")
    );
    // Text that only looks like a number stays text.
    assert_eq!(t.fmt("home.greeting", &[("name", "007")]), "Hello, 007");
}

#[test]
fn formatting_fills_placeholders() {
    let t = Tr::new(Lang::En);
    assert_eq!(t.fmt("home.greeting", &[("name", "Ada")]), "Hello, Ada");
}

crate::db_test!(dates_are_written_in_the_readers_language, |app| {
    let app = app.with_org();
    let support = app.team("Support");
    for (email, lang) in [("es@acme.test", "es"), ("de@acme.test", "de")] {
        app.user(email, "Reader")
            .language(lang)
            .in_team(support)
            .create();
    }
    let carl = app.customer("Carl Customer", "carl@customer.test");
    let id = app.conversation("Printer on fire", carl, Some(support), None, "open");
    app.sql(&format!(
        "INSERT INTO messages (conversation_id, kind, author_customer_id, body, created_at, source) \
         VALUES ({id}, 'customer', {carl}, 'It is on fire!', '2026-03-05 10:07:00', 'web')"
    ));
    app.sql("UPDATE users SET timezone = 'UTC'");
    for (email, expected) in [
        ("owner@acme.test", "05 Mar 2026, 10:07"),
        ("es@acme.test", "05 mar 2026, 10:07"),
        ("de@acme.test", "05. März 2026, 10:07"),
    ] {
        let page = app.sign_in(email).get(&format!("/conversations/{id}"));
        assert!(page.body.contains(expected), "{email}: {expected}");
    }
});
