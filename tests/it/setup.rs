use crate::db_test;

fn valid_setup() -> Vec<(&'static str, &'static str)> {
    vec![
        ("org_name", "Globex Support"),
        ("default_language", "en"),
        ("timezone", "America/New_York"),
        ("name", "Grace Hopper"),
        ("email", "Grace@Globex.test"),
        ("password", "a long enough password"),
        ("password_confirm", "a long enough password"),
    ]
}

db_test!(every_page_leads_to_setup_until_an_owner_exists, |app| {
    let mut client = app.client();
    for path in ["/", "/login", "/profile", "/settings", "/no-such-page"] {
        let response = client.get(path);
        response.expect_redirect("/setup");
        assert_eq!(response.location.as_deref(), Some("/setup"), "{path}");
    }
    assert_eq!(client.get("/healthz").status, 200);
    let setup = client.get("/setup");
    assert_eq!(setup.status, 200);
    assert!(setup.body.contains("Set up Confer"));
    assert!(
        setup
            .body
            .contains("<label for=\"org_name\">Organisation name</label>")
    );
});

db_test!(
    setup_creates_the_owner_signs_in_and_then_disappears,
    |app| {
        let mut client = app.client();
        let response = client.post_form("/setup", &valid_setup());
        response.expect_redirect("/");
        assert_eq!(response.location.as_deref(), Some("/"));
        let home = client.get("/");
        assert_eq!(home.status, 200);
        assert!(home.body.contains("Hello, Grace"), "{}", home.body);
        assert!(home.body.contains("Signed in as Owner"));
        assert!(home.body.contains("Globex Support"));

        use confer::models::user::User;
        let owner = User::find_by_email(&mut app.conn(), "grace@globex.test")
            .expect("query")
            .expect("owner stored with a lower-case email");
        assert_eq!(owner.email, "grace@globex.test");
        assert_ne!(
            owner.password_hash.as_deref(),
            Some("a long enough password")
        );
        assert!(User::owner_exists(&mut app.conn()).expect("query"));

        assert_eq!(client.get("/setup").status, 404);
        let again = client.post_form("/setup", &valid_setup());
        assert_eq!(again.status, 404, "a second setup is refused");
        let mut stranger = app.client();
        assert_eq!(stranger.get("/setup").status, 404);
        assert_eq!(stranger.get("/").location.as_deref(), Some("/login?next=/"));
    }
);

db_test!(setup_errors_are_shown_per_field_and_input_is_kept, |app| {
    let mut client = app.client();
    let mut fields = valid_setup();
    fields.retain(|(k, _)| !["email", "password_confirm", "timezone"].contains(k));
    fields.extend([
        ("email", "not-an-email"),
        ("password_confirm", "something else"),
        ("timezone", "Mars/Olympus"),
    ]);
    let response = client.post_form("/setup", &fields);
    assert_eq!(response.status, 422);
    assert!(
        response
            .body
            .contains("Enter an email address like name@example.com.")
    );
    assert!(response.body.contains("The two passwords do not match."));
    assert!(response.body.contains("Choose a timezone from the list."));
    assert!(
        response.body.contains("value=\"Globex Support\""),
        "organisation name kept"
    );
    assert!(
        response.body.contains("value=\"not-an-email\""),
        "email kept"
    );
    assert!(
        !response.body.contains("a long enough password"),
        "passwords are never echoed"
    );
    use confer::models::user::User;
    assert!(!User::owner_exists(&mut app.conn()).expect("query"));
});
