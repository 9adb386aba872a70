use confer::models::org::OrgSettings;
use confer::models::user::User;

use crate::db_test;

db_test!(owner_changes_the_organisation, |app| {
    let app = app.with_org();
    let mut owner = app.sign_in("owner@acme.test");
    assert_eq!(
        owner.get("/settings").location.as_deref(),
        Some("/settings/users")
    );
    let page = owner.get("/settings/organisation");
    assert!(page.body.contains("value=\"Acme Support\""));
    let bad = owner.post_form(
        "/settings/organisation",
        &[
            ("name", "  "),
            ("default_language", "xx"),
            ("timezone", "Europe/Berlin"),
            ("allowance", "sometimes"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("This field is required."));
    assert!(bad.body.contains("Choose one of the listed languages."));
    let saved = owner.post_form(
        "/settings/organisation",
        &[
            ("name", "Acme Help"),
            ("default_language", "de"),
            ("timezone", "Asia/Tokyo"),
            ("allowance", "unlimited"),
        ],
    );
    assert_eq!(
        saved.location.as_deref(),
        Some("/settings/organisation?saved=1")
    );
    let org = OrgSettings::find(&mut app.conn()).expect("q").expect("org");
    assert_eq!(
        (
            org.name.as_str(),
            org.default_language.as_str(),
            org.timezone.as_str()
        ),
        ("Acme Help", "de", "Asia/Tokyo")
    );
    let home = owner.get("/");
    assert!(
        home.body.contains("<html lang=\"de\">"),
        "the org default applies to users without their own"
    );
    assert!(home.body.contains("Acme Help"));
});

db_test!(users_keep_their_own_preferences, |app| {
    let app = app.with_org();
    let mut owner = app.sign_in("owner@acme.test");
    let bad = owner.post_form(
        "/profile",
        &[
            ("name", ""),
            ("language", "es"),
            ("timezone", "Nowhere/City"),
        ],
    );
    assert_eq!(bad.status, 422);
    assert!(bad.body.contains("Choose a timezone from the list."));
    let saved = owner.post_form(
        "/profile",
        &[
            ("name", "Olivia O."),
            ("language", "es"),
            ("timezone", "America/Mexico_City"),
        ],
    );
    assert_eq!(saved.location.as_deref(), Some("/profile?saved=1"));
    let user = User::find_by_email(&mut app.conn(), "owner@acme.test")
        .expect("q")
        .expect("owner");
    assert_eq!(user.name, "Olivia O.");
    assert_eq!(user.language.as_deref(), Some("es"));
    assert_eq!(user.timezone.as_deref(), Some("America/Mexico_City"));
    let profile = owner.get("/profile?saved=1");
    assert!(profile.body.contains("<html lang=\"es\">"));
    assert!(
        profile
            .body
            .contains("<option value=\"America/Mexico_City\" selected>Mexico City (UTC-")
    );
});
