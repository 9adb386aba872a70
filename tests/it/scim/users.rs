//! SCIM Users: discovery, create/read/unique, list filters and paging, PUT, Okta and Entra PATCH, deactivation, ETags, the owner and last admin protected, interoperability details.

use super::*;

db_test!(every_endpoint_needs_the_scim_token, |app| {
    let app = app.with_org();
    let off = Scim::with_token(&app, Some(TOKEN)).get("/Users");
    off.assert_error(401, None);
    assert!(
        off.body["detail"]
            .as_str()
            .unwrap()
            .contains("no SCIM token")
    );
    let scim = Scim::on(&app);
    Scim::with_token(&app, None)
        .get("/Users")
        .assert_error(401, None);
    let wrong = Scim::with_token(&app, Some("not-the-token")).get("/ServiceProviderConfig");
    wrong.assert_error(401, None);
    assert!(wrong.header("www-authenticate").is_some());
    Scim::with_token(&app, Some("wrong"))
        .post("/Users", jane())
        .assert_error(401, None);
    assert_eq!(app.count("users WHERE email = 'jane.doe@acme.test'"), 0);
    let ok = scim.get("/Users");
    assert_eq!(ok.status, 200);
    assert_eq!(ok.header("content-type"), Some("application/scim+json"));
});

db_test!(discovery_describes_what_is_supported, |app| {
    let app = app.with_org();
    let scim = Scim::on(&app);
    let config = scim.get("/ServiceProviderConfig");
    assert_eq!(config.status, 200);
    let c = &config.body;
    assert_eq!(c["patch"]["supported"], json!(true));
    assert_eq!(c["filter"], json!({ "supported": true, "maxResults": 200 }));
    assert_eq!(c["etag"]["supported"], json!(true));
    assert_eq!(c["bulk"]["supported"], json!(false));
    assert_eq!(c["sort"]["supported"], json!(false));
    assert_eq!(c["changePassword"]["supported"], json!(false));
    assert_eq!(
        c["authenticationSchemes"][0]["type"],
        json!("oauthbearertoken")
    );

    let types = scim.get("/ResourceTypes");
    assert_eq!(types.body["totalResults"], json!(2));
    let user = scim.get("/ResourceTypes/User");
    assert_eq!(user.body["endpoint"], json!("/Users"));
    assert_eq!(user.body["schemaExtensions"][0]["schema"], json!(EXTENSION));
    assert_eq!(
        scim.get("/ResourceTypes/Group").body["endpoint"],
        json!("/Groups")
    );
    scim.get("/ResourceTypes/Printer").assert_error(404, None);

    let schemas = scim.get("/Schemas");
    assert_eq!(schemas.body["totalResults"], json!(3));
    let core = scim.get("/Schemas/urn:ietf:params:scim:schemas:core:2.0:User");
    assert_eq!(core.status, 200);
    let names: Vec<&str> = core.body["attributes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["name"].as_str().unwrap())
        .collect();
    for name in [
        "userName",
        "name",
        "displayName",
        "emails",
        "active",
        "groups",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    assert_eq!(scim.get(&format!("/Schemas/{EXTENSION}")).status, 200);
    scim.get("/Schemas/urn:nothing").assert_error(404, None);
    scim.get("/Printers").assert_error(404, None);
    // RFC 7644: a method the endpoint does not answer is 405, not 404.
    scim.send("POST", "/ServiceProviderConfig", Some(&json!({})), &[])
        .assert_error(405, None);
});

db_test!(a_user_is_created_read_and_unique, |app| {
    let app = app.with_org();
    let scim = Scim::on(&app);
    let created = scim.post("/Users", jane());
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.id();
    let user = &created.body;
    assert_eq!(user["userName"], json!("jane.doe@acme.test"));
    assert_eq!(user["displayName"], json!("Jane Doe"));
    assert_eq!(user["name"]["givenName"], json!("Jane"));
    assert_eq!(user["name"]["familyName"], json!("Doe"));
    assert_eq!(user["emails"][0]["value"], json!("jane.doe@acme.test"));
    assert_eq!(user["externalId"], json!("00aa-jane"));
    assert_eq!(user["preferredLanguage"], json!("de"));
    assert_eq!(user["timezone"], json!("Europe/Berlin"));
    assert_eq!(user["active"], json!(true));
    assert_eq!(user[EXTENSION]["role"], json!("manager"));
    assert_eq!(user[EXTENSION]["userType"], json!("full_time"));
    let location = format!("{}/scim/v2/Users/{id}", app.state.config.public_url);
    assert_eq!(created.header("location"), Some(location.as_str()));
    assert_eq!(user["meta"]["location"], json!(location));
    assert_eq!(user["meta"]["resourceType"], json!("User"));
    assert_eq!(
        created.header("etag"),
        user["meta"]["version"].as_str(),
        "the ETag is meta.version"
    );
    assert!(created.header("etag").unwrap().starts_with("W/\""));

    // Invited as the Settings page does: the email is queued, the audit log
    // names SCIM.
    assert_eq!(
        app.count("outbox WHERE kind = 'invitation' AND recipient = 'jane.doe@acme.test'"),
        1
    );
    assert_eq!(
        app.count(&format!(
            "audit_log WHERE action = 'user.invited' AND actor_name = 'SCIM provisioning' \
             AND actor_id IS NULL AND target_id = {id}"
        )),
        1
    );

    let read = scim.get(&format!("/Users/{id}"));
    assert_eq!(read.status, 200);
    assert_eq!(read.body, created.body);
    assert_eq!(read.header("etag"), created.header("etag"));
    let trimmed = scim.get(&format!("/Users/{id}?excludedAttributes=groups,emails"));
    assert!(trimmed.body.get("emails").is_none() && trimmed.body.get("groups").is_none());
    assert_eq!(trimmed.body["userName"], json!("jane.doe@acme.test"));

    scim.post("/Users", jane())
        .assert_error(409, Some("uniqueness"));
    let mut owner = jane();
    owner["userName"] = json!("other@acme.test");
    owner[EXTENSION]["role"] = json!("owner");
    scim.post("/Users", owner)
        .assert_error(403, Some("mutability"));
    let mut bad = jane();
    bad["userName"] = json!("third@acme.test");
    bad["timezone"] = json!("Mars/Olympus");
    let refused = scim.post("/Users", bad);
    refused.assert_error(400, Some("invalidValue"));
    assert!(
        refused.body["detail"]
            .as_str()
            .unwrap()
            .contains("timezone")
    );
    scim.post("/Users", json!({ "displayName": "Nobody" }))
        .assert_error(400, Some("invalidValue"));
    scim.post("/Users", json!({ "userName": "not an address" }))
        .assert_error(400, Some("invalidValue"));
    scim.get("/Users/999999").assert_error(404, None);
    scim.get("/Users/abc").assert_error(404, None);
    let not_json = scim.send(
        "POST",
        "/Users",
        None,
        &[("Content-Type", "application/json")],
    );
    not_json.assert_error(400, Some("invalidSyntax"));
    scim.send("POST", "/Users", None, &[("Content-Type", "text/plain")])
        .assert_error(415, None);
    let huge = json!({ "userName": "big@acme.test", "displayName": "x".repeat(1_100_000) });
    scim.post("/Users", huge).assert_error(413, None);
    assert_eq!(app.count("users"), 2, "the owner and Jane");
});

db_test!(the_user_list_filters_and_pages, |app| {
    let app = app.with_org();
    let scim = Scim::on(&app);
    app.user("adam@acme.test", "Adam Able").create();
    app.user("bea@acme.test", "Bea Baker")
        .role(BuiltinRole::Manager)
        .create();
    app.user("carl@other.test", "Carl Carter")
        .collaborator()
        .create();
    let dana = app.user("dana@acme.test", "Dana Doe").create();
    app.sql(&format!(
        "UPDATE users SET active = false WHERE id = {dana}; \
         UPDATE users SET scim_external_id = 'ext-bea' WHERE email = 'bea@acme.test'"
    ));
    let adam = app.user_id("adam@acme.test");

    assert_eq!(
        scim.find("userName eq \"ADAM@acme.test\""),
        ["adam@acme.test"]
    );
    assert_eq!(
        scim.find("USERNAME EQ \"adam@acme.test\""),
        ["adam@acme.test"]
    );
    assert_eq!(
        scim.find("userName ne \"adam@acme.test\""),
        [
            "owner@acme.test",
            "bea@acme.test",
            "carl@other.test",
            "dana@acme.test"
        ]
    );
    assert_eq!(scim.find("displayName co \"ar\""), ["carl@other.test"]);
    assert_eq!(scim.find("userName sw \"b\""), ["bea@acme.test"]);
    assert_eq!(scim.find("userName ew \"other.test\""), ["carl@other.test"]);
    assert_eq!(scim.find("externalId pr"), ["bea@acme.test"]);
    assert_eq!(scim.find("externalId eq \"ext-bea\""), ["bea@acme.test"]);
    assert!(
        scim.find("externalId eq \"EXT-BEA\"").is_empty(),
        "externalId is case-exact"
    );
    assert_eq!(scim.find("active eq false"), ["dana@acme.test"]);
    assert_eq!(scim.find(&format!("id eq \"{adam}\"")), ["adam@acme.test"]);
    assert_eq!(
        scim.find("emails[type eq \"work\"].value eq \"carl@other.test\""),
        ["carl@other.test"]
    );
    assert_eq!(
        scim.find("emails.value eq \"Bea@Acme.test\""),
        ["bea@acme.test"]
    );
    assert_eq!(scim.find("emails[value sw \"dana\"]"), ["dana@acme.test"]);
    assert_eq!(scim.find("name.givenName eq \"bea\""), ["bea@acme.test"]);
    assert_eq!(scim.find("name.familyName eq \"Doe\""), ["dana@acme.test"]);
    assert_eq!(
        scim.find(&format!("{EXTENSION}:role eq \"manager\"")),
        ["bea@acme.test"]
    );
    assert_eq!(
        scim.find("userName sw \"a\" and active eq true"),
        ["adam@acme.test"]
    );
    assert_eq!(
        scim.find("userName sw \"a\" or userName sw \"c\""),
        ["adam@acme.test", "carl@other.test"]
    );
    assert_eq!(
        scim.find("not (userName ew \"acme.test\")"),
        ["carl@other.test"]
    );
    assert_eq!(
        scim.find("(userName sw \"a\" or userName sw \"b\") and not (externalId pr)"),
        ["adam@acme.test"]
    );

    for bad in [
        "userName eq",
        "userName like \"a\"",
        "userName eq \"a",
        "(userName eq \"a\"",
        "userName eq a",
    ] {
        scim.get(&format!("/Users?filter={}", url_encode(bad)))
            .assert_error(400, Some("invalidFilter"));
    }

    let page = scim.get("/Users?startIndex=2&count=2");
    assert_eq!(
        page.body["schemas"],
        json!(["urn:ietf:params:scim:api:messages:2.0:ListResponse"])
    );
    assert_eq!(page.body["totalResults"], json!(5));
    assert_eq!(page.body["startIndex"], json!(2));
    assert_eq!(page.body["itemsPerPage"], json!(2));
    let names: Vec<&str> = page.body["Resources"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["userName"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["adam@acme.test", "bea@acme.test"]);
    let last = scim.get("/Users?startIndex=5&count=10");
    assert_eq!(last.body["itemsPerPage"], json!(1));
    let none = scim.get("/Users?count=0");
    assert_eq!(none.body["totalResults"], json!(5));
    assert_eq!(none.body["Resources"], json!([]));
    assert_eq!(scim.get("/Users?startIndex=0").body["startIndex"], json!(1));
    scim.get("/Users?count=many")
        .assert_error(400, Some("invalidValue"));
    let only = scim.get("/Users?attributes=userName&count=1");
    let first = &only.body["Resources"][0];
    assert!(first.get("userName").is_some() && first.get("id").is_some());
    assert!(first.get("emails").is_none() && first.get("name").is_none());
    let role_only = scim.get(&format!("/Users?attributes={EXTENSION}:role&count=1"));
    let first = &role_only.body["Resources"][0];
    assert_eq!(first[EXTENSION]["role"], json!("owner"));
    assert!(first.get("userName").is_none());
});

db_test!(put_replaces_the_user, |app| {
    let app = app.with_org();
    let scim = Scim::on(&app);
    let id = scim.post("/Users", jane()).id();
    let replaced = scim.put(
        &format!("/Users/{id}"),
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": "jane.smith@acme.test",
            "name": { "givenName": "Jane Ann", "familyName": "Smith" },
            "active": true,
            "emails": [{ "value": "ignored@acme.test", "type": "home" }],
            "id": "42",
            "groups": [],
        }),
    );
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    let user = &replaced.body;
    assert_eq!(user["id"], json!(id));
    assert_eq!(user["userName"], json!("jane.smith@acme.test"));
    assert_eq!(user["displayName"], json!("Jane Ann Smith"));
    assert!(
        user.get("externalId").is_none(),
        "a replace clears what it omits"
    );
    assert!(user.get("preferredLanguage").is_none());
    assert!(user.get("timezone").is_none());
    assert_eq!(
        user[EXTENSION]["role"],
        json!("manager"),
        "the extension stays"
    );
    assert_eq!(
        app.count(&format!(
            "users WHERE id = {id} AND email = 'jane.smith@acme.test' AND name = 'Jane Ann Smith' \
             AND scim_external_id IS NULL AND language IS NULL"
        )),
        1
    );
    assert_eq!(
        app.count("audit_log WHERE action = 'user.updated' AND actor_name = 'SCIM provisioning'"),
        1
    );
    scim.put("/Users/999999", jane()).assert_error(404, None);
    let mut taken = jane();
    taken["userName"] = json!("owner@acme.test");
    scim.put(&format!("/Users/{id}"), taken)
        .assert_error(409, Some("uniqueness"));
});

db_test!(patch_as_okta_sends_it, |app| {
    let app = app.with_org();
    let scim = Scim::on(&app);
    let id = scim.post("/Users", jane()).id();
    let path = format!("/Users/{id}");
    let patched = scim.patch(
        &path,
        json!([
            { "op": "replace", "path": "name.familyName", "value": "Roe" },
            { "op": "replace", "path": "userName", "value": "jane.roe@acme.test" },
            { "op": "add", "path": "timezone", "value": "America/New_York" },
            { "op": "remove", "path": "preferredLanguage" },
            { "op": "replace", "path": format!("{EXTENSION}:role"), "value": "agent" },
            { "op": "replace", "path": format!("{EXTENSION}:userType"), "value": "collaborator" },
        ]),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    let user = &patched.body;
    assert_eq!(user["displayName"], json!("Jane Roe"));
    assert_eq!(user["userName"], json!("jane.roe@acme.test"));
    assert_eq!(user["timezone"], json!("America/New_York"));
    assert!(user.get("preferredLanguage").is_none());
    assert_eq!(user[EXTENSION]["userType"], json!("collaborator"));
    assert!(
        user[EXTENSION].get("role").is_none(),
        "collaborators have no role"
    );

    let off = scim.patch(
        &path,
        json!([{ "op": "replace", "path": "active", "value": false }]),
    );
    assert_eq!(off.body["active"], json!(false));
    assert_eq!(
        app.count(&format!("users WHERE id = {id} AND active = false")),
        1
    );
    let on = scim.patch(
        &path,
        json!([{ "op": "replace", "value": { "id": id, "active": true } }]),
    );
    assert_eq!(on.status, 200, "{}", on.body);
    assert_eq!(on.body["active"], json!(true));
    assert_eq!(
        app.count(&format!(
            "audit_log WHERE action = 'user.reactivated' AND target_id = {id}"
        )),
        1
    );

    scim.patch(
        &path,
        json!([{ "op": "replace", "path": "id", "value": "7" }]),
    )
    .assert_error(400, Some("mutability"));
    scim.patch(&path, json!([{ "op": "remove", "path": "userName" }]))
        .assert_error(400, Some("invalidValue"));
    scim.patch(&path, json!([{ "op": "remove" }]))
        .assert_error(400, Some("noTarget"));
    scim.patch(&path, json!([{ "op": "move", "path": "active" }]))
        .assert_error(400, Some("invalidSyntax"));
    scim.patch(
        &path,
        json!([{ "op": "replace", "path": "active", "value": "maybe" }]),
    )
    .assert_error(400, Some("invalidValue"));
    scim.patch(
        &path,
        json!([{ "op": "replace", "path": "name[", "value": "x" }]),
    )
    .assert_error(400, Some("invalidPath"));
    scim.patch(
        &path,
        json!([{ "op": "replace", "path": format!("{EXTENSION}:role"), "value": "wizard" }]),
    )
    .assert_error(400, Some("invalidValue"));
    scim.send("PATCH", &path, Some(&json!({ "schemas": [PATCH_OP] })), &[])
        .assert_error(400, Some("invalidSyntax"));
});

db_test!(patch_as_entra_id_sends_it, |app| {
    let app = app.with_org();
    let scim = Scim::on(&app);
    let id = scim.post("/Users", jane()).id();
    let path = format!("/Users/{id}");
    let patched = scim.patch(
        &path,
        json!([
            { "op": "Add", "path": "externalId", "value": "00bb-jane" },
            { "op": "Replace", "path": "emails[type eq \"work\"].value", "value": "jd@acme.test" },
            { "op": "Replace", "path": "title", "value": "Head of support" },
            { "op": "Add", "path": "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department", "value": "Ops" },
            { "op": "REPLACE", "value": {
                "displayName": "Janet Doe",
                "name.givenName": "Ignored, displayName wins",
                "preferredLanguage": "es-ES",
            } },
        ]),
    );
    assert_eq!(patched.status, 200, "{}", patched.body);
    let user = &patched.body;
    assert_eq!(user["externalId"], json!("00bb-jane"));
    assert_eq!(user["userName"], json!("jd@acme.test"));
    assert_eq!(user["displayName"], json!("Janet Doe"));
    assert_eq!(user["preferredLanguage"], json!("es"));

    let off = scim.patch(
        &path,
        json!([{ "op": "Replace", "path": "active", "value": "False" }]),
    );
    assert_eq!(off.status, 200, "{}", off.body);
    assert_eq!(off.body["active"], json!(false));
    let on = scim.patch(
        &path,
        json!([{ "op": "Replace", "value": { "active": "True" } }]),
    );
    assert_eq!(on.body["active"], json!(true));
    let home = scim.patch(
        &path,
        json!([{ "op": "Add", "path": "emails[type eq \"home\"].value", "value": "jd@home.test" }]),
    );
    assert_eq!(
        home.body["userName"],
        json!("jd@acme.test"),
        "only the work address counts"
    );
});

db_test!(
    deactivating_through_scim_has_the_settings_page_effects,
    |app| {
        let app = app.with_org();
        let support = app.team("Support");
        let alan = app
            .user("alan@acme.test", "Alan Agent")
            .in_team(support)
            .create();
        let carl = app.customer("Carl Customer", "carl@customer.test");
        let open = app.conversation("Printer on fire", carl, Some(support), Some(alan), "open");
        let scim = Scim::on(&app);
        let mut browser = app.sign_in("alan@acme.test");
        assert!(browser.is_signed_in());

        let off = scim.patch(
            &format!("/Users/{alan}"),
            json!([{ "op": "replace", "path": "active", "value": false }]),
        );
        assert_eq!(off.status, 200, "{}", off.body);
        assert!(!browser.is_signed_in(), "signed out everywhere");
        assert_eq!(
            app.count(
                "audit_log WHERE action = 'user.deactivated' AND actor_name = 'SCIM provisioning'"
            ),
            1
        );
        assert_eq!(
            app.count(&format!(
                "conversations WHERE id = {open} AND assignee_id IS NULL"
            )),
            1,
            "the open conversation went back to the queue"
        );
        let again = app.client().post_form(
            "/login",
            &[
                ("email", "alan@acme.test"),
                ("password", crate::support::PASSWORD),
            ],
        );
        assert_ne!(again.status, 303, "a deactivated user cannot sign in");
    }
);

db_test!(delete_deactivates_and_keeps_the_user, |app| {
    let app = app.with_org();
    let alan = app.user("alan@acme.test", "Alan Agent").create();
    let scim = Scim::on(&app);
    let mut browser = app.sign_in("alan@acme.test");
    let deleted = scim.delete(&format!("/Users/{alan}"));
    assert_eq!(deleted.status, 204);
    assert!(!browser.is_signed_in());
    assert_eq!(
        app.count(&format!("users WHERE id = {alan} AND active = false")),
        1
    );
    assert_eq!(app.count("audit_log WHERE action = 'user.deactivated'"), 1);
    let read = scim.get(&format!("/Users/{alan}"));
    assert_eq!(read.status, 200);
    assert_eq!(read.body["active"], json!(false));
    assert_eq!(
        scim.delete(&format!("/Users/{alan}")).status,
        204,
        "again: nothing to do"
    );
    assert_eq!(app.count("audit_log WHERE action = 'user.deactivated'"), 1);
    scim.delete("/Users/999999").assert_error(404, None);
});

db_test!(if_match_guards_against_lost_updates, |app| {
    let app = app.with_org();
    let scim = Scim::on(&app);
    let created = scim.post("/Users", jane());
    let path = format!("/Users/{}", created.id());
    let first = created.header("etag").unwrap().to_string();
    let rename = json!({
        "schemas": [PATCH_OP],
        "Operations": [{ "op": "replace", "path": "displayName", "value": "Jane Q. Doe" }],
    });
    let renamed = scim.send("PATCH", &path, Some(&rename), &[("If-Match", &first)]);
    assert_eq!(renamed.status, 200, "{}", renamed.body);
    let second = renamed.header("etag").unwrap().to_string();
    assert_ne!(first, second, "the version changes with the user");
    assert_eq!(scim.get(&path).header("etag"), Some(second.as_str()));

    scim.send("PATCH", &path, Some(&rename), &[("If-Match", &first)])
        .assert_error(412, None);
    scim.send("PUT", &path, Some(&jane()), &[("If-Match", &first)])
        .assert_error(412, None);
    scim.send("DELETE", &path, None, &[("If-Match", &first)])
        .assert_error(412, None);
    assert_eq!(app.count("users WHERE active = false"), 0);
    let strong = second.trim_start_matches("W/");
    assert_eq!(
        scim.send("PATCH", &path, Some(&rename), &[("If-Match", strong)])
            .status,
        200
    );
    assert_eq!(
        scim.send("DELETE", &path, None, &[("If-Match", "*")])
            .status,
        204
    );
});

db_test!(the_owner_and_the_last_admin_are_protected, |app| {
    let app = app.with_org();
    let owner = app.user_id("owner@acme.test");
    let admin = app
        .user("admin@acme.test", "Ada Admin")
        .role(BuiltinRole::Admin)
        .create();
    let scim = Scim::on(&app);
    let owner_path = format!("/Users/{owner}");
    assert_eq!(scim.get(&owner_path).status, 200, "readable");
    scim.patch(
        &owner_path,
        json!([{ "op": "replace", "path": "active", "value": false }]),
    )
    .assert_error(403, Some("mutability"));
    scim.put(
        &owner_path,
        json!({ "userName": "owner@acme.test", "displayName": "X" }),
    )
    .assert_error(403, Some("mutability"));
    scim.delete(&owner_path)
        .assert_error(403, Some("mutability"));
    assert_eq!(
        app.count(&format!("users WHERE id = {owner} AND active = true")),
        1
    );

    let admin_path = format!("/Users/{admin}");
    scim.patch(
        &admin_path,
        json!([{ "op": "replace", "path": format!("{EXTENSION}:role"), "value": "owner" }]),
    )
    .assert_error(403, Some("mutability"));
    scim.patch(
        &admin_path,
        json!([{ "op": "replace", "path": "active", "value": false }]),
    )
    .assert_error(409, None);
    scim.delete(&admin_path).assert_error(409, None);
    scim.patch(
        &admin_path,
        json!([{ "op": "replace", "path": format!("{EXTENSION}:role"), "value": "agent" }]),
    )
    .assert_error(409, None);
    assert_eq!(
        app.count(&format!("users WHERE id = {admin} AND active = true")),
        1
    );

    // With a second admin, SCIM may grant and withdraw Admin.
    let alan = app.user("alan@acme.test", "Alan Agent").create();
    let promoted = scim.patch(
        &format!("/Users/{alan}"),
        json!([{ "op": "replace", "path": format!("{EXTENSION}:role"), "value": "admin" }]),
    );
    assert_eq!(promoted.body[EXTENSION]["role"], json!("admin"));
    assert_eq!(scim.delete(&admin_path).status, 204);
});

db_test!(
    interoperability_externalid_methods_conflicts_and_usernames,
    |app| {
        let app = app.with_org();
        app.user("admin@acme.test", "Ada Admin")
            .role(BuiltinRole::Admin)
            .create();
        let scim = Scim::on(&app);

        // A group's externalId is stored, returned, filterable and patchable.
        let group = scim.post(
            "/Groups",
            json!({ "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Billing", "externalId": "entra-grp-9" }),
        );
        assert_eq!(group.status, 201, "{}", group.body);
        assert_eq!(group.body["externalId"], json!("entra-grp-9"));
        let id = group.id();
        assert_eq!(
            scim.get(&format!("/Groups/{id}")).body["externalId"],
            json!("entra-grp-9")
        );
        let found = scim.get(&format!(
            "/Groups?filter={}",
            url_encode("externalId eq \"entra-grp-9\"")
        ));
        assert_eq!(found.body["totalResults"], json!(1));
        let patched = scim.patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "replace", "path": "externalId", "value": "entra-grp-10" }]),
        );
        assert_eq!(patched.status, 200);
        assert_eq!(patched.body["externalId"], json!("entra-grp-10"));
        assert_eq!(app.count("teams WHERE external_id = 'entra-grp-10'"), 1);
        let without_path = scim.patch(
            &format!("/Groups/{id}"),
            json!([{ "op": "replace", "value": { "externalId": "okta-7" } }]),
        );
        assert_eq!(without_path.body["externalId"], json!("okta-7"));

        // Discovery is read-only: 405 with Allow: GET and a SCIM error.
        for path in [
            "/ServiceProviderConfig",
            "/ResourceTypes",
            "/ResourceTypes/User",
            "/Schemas",
            "/Schemas/urn:ietf:params:scim:schemas:core:2.0:User",
        ] {
            for method in ["POST", "PUT", "PATCH", "DELETE"] {
                let reply = scim.send(method, path, Some(&json!({})), &[]);
                reply.assert_error(405, None);
                assert_eq!(reply.header("allow"), Some("GET"), "{method} {path}");
            }
        }

        // 409s say why in scimType.
        let admin = app.user_id("admin@acme.test");
        app.sql(&format!(
            "UPDATE users SET active = FALSE WHERE role_id = {} AND id <> {admin}",
            app.role_id(BuiltinRole::Admin)
        ));
        scim.patch(
            &format!("/Users/{admin}"),
            json!([{ "op": "replace", "path": "active", "value": false }]),
        )
        .assert_error(409, Some("mutability"));
        app.sql("UPDATE org_settings SET collaborator_allowance = 'fixed', collaborator_allowance_fixed = 0");
        let collaborator = scim.post(
            "/Users",
            json!({ "userName": "cora@acme.test", "displayName": "Cora",
                EXTENSION: { "userType": "collaborator" } }),
        );
        collaborator.assert_error(409, Some("mutability"));

        // A userName that is not an email: the address comes from emails.
        let okta = scim.post(
            "/Users",
            json!({ "userName": "jdoe", "displayName": "Jane Doe",
                "emails": [
                    { "value": "jane.home@example.test", "type": "home" },
                    { "value": "Jane@Acme.test", "type": "work", "primary": true }
                ] }),
        );
        assert_eq!(okta.status, 201, "{}", okta.body);
        assert_eq!(okta.body["userName"], json!("jdoe"));
        assert_eq!(okta.body["emails"][0]["value"], json!("jane@acme.test"));
        assert_eq!(
            app.count("users WHERE email = 'jane@acme.test' AND scim_user_name = 'jdoe'"),
            1
        );
        assert_eq!(
            scim.find("userName eq \"JDOE\""),
            vec!["jdoe".to_string()],
            "userName compares without case"
        );
        scim.post(
            "/Users",
            json!({ "userName": "JDoe", "emails": [{ "value": "other@acme.test" }] }),
        )
        .assert_error(409, Some("uniqueness"));
        let missing = scim.post(
            "/Users",
            json!({ "userName": "nomail", "displayName": "No Mail" }),
        );
        missing.assert_error(400, Some("invalidValue"));
        assert!(
            missing.body["detail"]
                .as_str()
                .is_some_and(|d| d.contains("no address is given in emails")),
            "{}",
            missing.body
        );
        assert_eq!(app.count("users WHERE name = 'No Mail'"), 0);
        // Renaming the userName keeps the address.
        let renamed = scim.patch(
            &format!("/Users/{}", okta.id()),
            json!([{ "op": "replace", "path": "userName", "value": "jane.doe" }]),
        );
        assert_eq!(renamed.body["userName"], json!("jane.doe"));
        assert_eq!(renamed.body["emails"][0]["value"], json!("jane@acme.test"));
    }
);
