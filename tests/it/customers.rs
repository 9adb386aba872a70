//! Customers and organizations: forms, domain matching, notes in safe
//! Markdown, conversations filtered by the reader's scope, and masking of
//! contact details for collaborators.

use crate::db_test;

fn id_from(location: Option<&str>) -> i64 {
    location
        .and_then(|l| l.split('/').nth(2))
        .and_then(|s| s.split('?').next())
        .and_then(|s| s.parse().ok())
        .expect("id in the redirect")
}

db_test!(
    agents_create_customers_who_join_organizations_by_domain,
    |app| {
        let app = app.with_org();
        app.staff();
        let mut agent = app.sign_in("agent@acme.test");
        let bad = agent.post_form(
            "/organizations/new",
            &[("name", "Globex"), ("domains", "globex.test, not a domain")],
        );
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("is not a domain like example.com"));
        assert!(
            bad.body.contains("value=\"globex.test, not a domain\""),
            "input kept"
        );
        let created = agent.post_form(
            "/organizations/new",
            &[
                ("name", "Globex"),
                ("domains", "Globex.test, @globex.example"),
            ],
        );
        let globex = id_from(created.location.as_deref());
        assert_eq!(
            app.count(&format!(
                "organizations WHERE id = {globex} AND domains = 'globex.test globex.example'"
            )),
            1
        );

        let hank = agent.post_form(
            "/customers/new",
            &[
                ("name", "Hank Scorpio"),
                ("email", "Hank@GLOBEX.test"),
                ("phone", "+1 555 0100"),
                ("organization_id", ""),
            ],
        );
        let hank_id = id_from(hank.location.as_deref());
        assert_eq!(app.count(&format!("customers WHERE id = {hank_id} AND organization_id = {globex} AND email = 'hank@globex.test'")), 1, "joined by domain");
        let duplicate = agent.post_form(
            "/customers/new",
            &[
                ("name", "Hank Again"),
                ("email", "hank@globex.test"),
                ("phone", ""),
                ("organization_id", ""),
            ],
        );
        assert_eq!(duplicate.status, 422);
        assert!(
            duplicate
                .body
                .contains("Another customer already has this email address.")
        );
        let edited = agent.post_form(
            &format!("/customers/{hank_id}/edit"),
            &[
                ("name", "Hank S."),
                ("email", "hank@globex.test"),
                ("phone", ""),
                ("organization_id", ""),
            ],
        );
        edited.expect_redirect("/customers/*");
        assert_eq!(
            app.count(&format!(
                "customers WHERE id = {hank_id} AND name = 'Hank S.' AND phone IS NULL"
            )),
            1
        );

        // An organization that gains a domain adopts the matching customers.
        let frank = app.customer("Frank Grimes", "frank@initech.test");
        let initech = agent.post_form(
            "/organizations/new",
            &[("name", "Initech"), ("domains", "initech.test")],
        );
        let initech = id_from(initech.location.as_deref());
        assert_eq!(
            app.count(&format!(
                "customers WHERE id = {frank} AND organization_id = {initech}"
            )),
            1
        );
        let page = agent.get(&format!("/organizations/{initech}"));
        assert!(page.body.contains("Frank Grimes"));
        let list = agent.get("/organizations?q=initech");
        assert!(list.body.contains("Initech") && !list.body.contains("Globex"));
    }
);

db_test!(collaborators_view_and_note_but_never_edit, |app| {
    let app = app.with_org();
    app.staff();
    let carl = app.customer("Carl Customer", "carl@customer.test");
    let mut cora = app.sign_in("collab@acme.test");
    assert!(cora.get("/").body.contains("href=\"/customers\""));
    let list = cora.get("/customers");
    assert!(list.body.contains("Carl Customer") && list.body.contains("carl@customer.test"));
    assert!(
        !list.body.contains("href=\"/customers/new\""),
        "no create button"
    );
    let profile = cora.get(&format!("/customers/{carl}"));
    assert!(profile.body.contains("layout-collaborator"));
    assert!(
        !profile.body.contains(&format!("/customers/{carl}/edit")),
        "no edit control"
    );
    assert_eq!(
        cora.post_form("/customers/new", &[("name", "X")]).status,
        403
    );
    assert_eq!(
        cora.post_form(&format!("/customers/{carl}/edit"), &[("name", "Hacked")])
            .status,
        403
    );
    assert_eq!(
        app.count("customers WHERE name = 'Hacked' OR name = 'X'"),
        0
    );

    let note = "Call **after 3pm**. <script>alert(1)</script> <img src=x onerror=alert(2)> [site](https://example.com)";
    let added = cora.post_form(&format!("/customers/{carl}/notes"), &[("body", note)]);
    assert_eq!(added.location, Some(format!("/customers/{carl}#notes")));
    let profile = cora.get(&format!("/customers/{carl}"));
    assert!(profile.body.contains("<strong>after 3pm</strong>"));
    assert!(!profile.body.contains("<script>alert(1)"), "no script");
    assert!(!profile.body.contains("onerror"), "no event handlers");
    assert!(profile.body.contains("rel=\"noopener noreferrer\""));
    assert!(profile.body.contains("Cora Collaborator"));
    let empty = cora.post_form(&format!("/customers/{carl}/notes"), &[("body", "   ")]);
    assert_eq!(empty.status, 422);
    assert_eq!(app.count("profile_notes"), 1);
    let mut agent = app.sign_in("agent@acme.test");
    assert!(
        agent
            .get(&format!("/customers/{carl}"))
            .body
            .contains("after 3pm"),
        "the team sees the note"
    );
    assert_eq!(agent.get("/customers/999999").status, 404);
});

db_test!(masked_contact_details_for_collaborators, |app| {
    let app = app.with_org();
    app.staff();
    let carl = app.customer_with_phone();
    let mut owner = app.sign_in("owner@acme.test");
    let saved = owner.post_form(
        "/settings/organisation",
        &[
            ("name", "Acme Support"),
            ("default_language", "en"),
            ("timezone", "Europe/Berlin"),
            ("allowance", "unlimited"),
            ("mask_contacts", "on"),
        ],
    );
    saved.expect_redirect("/settings/organisation");
    assert_eq!(app.count("audit_log WHERE action = 'organisation.updated' AND after_state LIKE '%\"mask_contacts_for_collaborators\":true%'"), 1);
    let mut cora = app.sign_in("collab@acme.test");
    let profile = cora.get(&format!("/customers/{carl}"));
    assert!(
        profile.body.contains("c•••@customer.test"),
        "{}",
        profile.body
    );
    assert!(profile.body.contains("••••••67"));
    assert!(!profile.body.contains("carl@customer.test") && !profile.body.contains("555 1234567"));
    let list = cora.get("/customers");
    assert!(list.body.contains("c•••@customer.test") && !list.body.contains("carl@customer.test"));
    let probe = cora.get("/customers?q=carl%40customer");
    assert!(
        !probe.body.contains("Carl Customer"),
        "a masked reader cannot search by email"
    );
    assert!(
        cora.get("/customers?q=Carl").body.contains("Carl Customer"),
        "names still match"
    );
    let mut agent = app.sign_in("agent@acme.test");
    assert!(
        agent
            .get(&format!("/customers/{carl}"))
            .body
            .contains("carl@customer.test"),
        "agents see it all"
    );
    assert!(
        agent
            .get("/customers?q=carl%40customer")
            .body
            .contains("Carl Customer")
    );
});

db_test!(profiles_list_only_conversations_the_reader_may_see, |app| {
    let app = app.with_org();
    let support = app.team("Support");
    let billing = app.team("Billing");
    app.user("support-agent@acme.test", "Sue Support")
        .in_team(support)
        .teams_only()
        .create();
    app.user("collab@acme.test", "Cora Collaborator")
        .collaborator()
        .in_team(billing)
        .teams_only()
        .create();
    let carl = app.customer("Carl Customer", "carl@customer.test");
    app.conversation("Support question", carl, Some(support), None, "open");
    app.conversation("Billing question", carl, Some(billing), None, "pending");
    let sue = app
        .sign_in("support-agent@acme.test")
        .get(&format!("/customers/{carl}"))
        .body;
    assert!(sue.contains("Support question") && !sue.contains("Billing question"));
    let cora = app
        .sign_in("collab@acme.test")
        .get(&format!("/customers/{carl}"))
        .body;
    assert!(cora.contains("Billing question") && !cora.contains("Support question"));
    let owner = app
        .sign_in("owner@acme.test")
        .get(&format!("/customers/{carl}"))
        .body;
    assert!(owner.contains("Billing question") && owner.contains("Support question"));
});
