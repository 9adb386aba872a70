//! SCIM Groups are teams: create, patch members, rename, delete.

use super::*;

db_test!(groups_are_teams, |app| {
    let app = app.with_org();
    let adam = app.user("adam@acme.test", "Adam Able").create();
    let bea = app.user("bea@acme.test", "Bea Baker").create();
    let carl = app.user("carl@acme.test", "Carl Carter").create();
    let scim = Scim::on(&app);

    let created = scim.post(
        "/Groups",
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Support",
            "externalId": "grp-1",
            "members": [{ "value": adam.to_string() }, { "value": bea.to_string() }],
        }),
    );
    assert_eq!(created.status, 201, "{}", created.body);
    let id = created.id();
    let path = format!("/Groups/{id}");
    assert_eq!(created.body["displayName"], json!("Support"));
    let members = |reply: &Reply| -> Vec<String> {
        reply.body["members"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["display"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(members(&created), ["Adam Able", "Bea Baker"]);
    assert_eq!(
        created.header("location"),
        Some(format!("{}/scim/v2/Groups/{id}", app.state.config.public_url).as_str())
    );
    assert_eq!(
        app.count(&format!("team_memberships WHERE team_id = {id}")),
        2
    );
    assert_eq!(app.count("audit_log WHERE action = 'team.created'"), 1);
    let groups_of_adam = scim.get(&format!("/Users/{adam}")).body["groups"].clone();
    assert_eq!(groups_of_adam[0]["value"], json!(id));
    assert_eq!(groups_of_adam[0]["display"], json!("Support"));

    scim.post("/Groups", json!({ "displayName": "support" }))
        .assert_error(409, Some("uniqueness"));
    scim.post(
        "/Groups",
        json!({ "displayName": "Ghosts", "members": [{ "value": "999999" }] }),
    )
    .assert_error(400, Some("invalidValue"));
    scim.post("/Groups", json!({ "displayName": " " }))
        .assert_error(400, Some("invalidValue"));
    let sales = scim.post("/Groups", json!({ "displayName": "Sales" })).id();

    let find = |filter: &str| -> Vec<String> {
        let reply = scim.get(&format!("/Groups?filter={}", url_encode(filter)));
        assert_eq!(reply.status, 200, "{}", reply.body);
        reply.body["Resources"]
            .as_array()
            .unwrap()
            .iter()
            .map(|g| g["displayName"].as_str().unwrap().to_string())
            .collect()
    };
    assert_eq!(find("displayName eq \"support\""), ["Support"]);
    assert_eq!(find(&format!("id eq \"{sales}\"")), ["Sales"]);
    assert_eq!(find(&format!("members.value eq \"{bea}\"")), ["Support"]);
    let slim = scim.get("/Groups?excludedAttributes=members");
    assert_eq!(slim.body["totalResults"], json!(2));
    assert!(slim.body["Resources"][0].get("members").is_none());

    // Entra adds and removes with `path: members` and a list.
    let added = scim.patch(
        &path,
        json!([{ "op": "Add", "path": "members", "value": [{ "value": carl.to_string() }] }]),
    );
    assert_eq!(added.status, 200, "{}", added.body);
    assert_eq!(members(&added), ["Adam Able", "Bea Baker", "Carl Carter"]);
    let removed = scim.patch(
        &path,
        json!([{ "op": "Remove", "path": "members", "value": [{ "value": adam.to_string() }] }]),
    );
    assert_eq!(members(&removed), ["Bea Baker", "Carl Carter"]);
    // Okta removes with a filter in the path and renames with a value map.
    let okta = scim.patch(
        &path,
        json!([
            { "op": "remove", "path": format!("members[value eq \"{bea}\"]") },
            { "op": "replace", "value": { "id": id, "displayName": "Customer Care" } },
        ]),
    );
    assert_eq!(okta.status, 200, "{}", okta.body);
    assert_eq!(okta.body["displayName"], json!("Customer Care"));
    assert_eq!(members(&okta), ["Carl Carter"]);
    assert_eq!(app.count("audit_log WHERE action = 'team.member_added'"), 3);
    assert_eq!(
        app.count("audit_log WHERE action = 'team.member_removed'"),
        2
    );
    assert_eq!(app.count("audit_log WHERE action = 'team.renamed'"), 1);
    assert_eq!(app.count("teams WHERE name = 'Customer Care'"), 1);
    scim.patch(
        &path,
        json!([{ "op": "replace", "path": "displayName", "value": "Sales" }]),
    )
    .assert_error(409, Some("uniqueness"));
    scim.patch(&path, json!([{ "op": "remove", "path": "displayName" }]))
        .assert_error(400, Some("invalidValue"));

    let replaced = scim.put(
        &path,
        json!({ "displayName": "Care", "members": [{ "value": adam.to_string() }] }),
    );
    assert_eq!(replaced.status, 200, "{}", replaced.body);
    assert_eq!(members(&replaced), ["Adam Able"]);
    assert_eq!(replaced.body["displayName"], json!("Care"));
    let etag = replaced.header("etag").unwrap().to_string();
    scim.send("DELETE", &path, None, &[("If-Match", "W/\"stale\"")])
        .assert_error(412, None);

    let carl_customer = app.customer("Carl Customer", "carl@customer.test");
    let team_id: i64 = id.parse().unwrap();
    let conversation = app.conversation("Hello", carl_customer, Some(team_id), None, "open");
    assert_eq!(
        scim.send("DELETE", &path, None, &[("If-Match", &etag)])
            .status,
        204
    );
    assert_eq!(app.count(&format!("teams WHERE id = {id}")), 0);
    assert_eq!(
        app.count(&format!("team_memberships WHERE team_id = {id}")),
        0
    );
    assert_eq!(
        app.count(&format!(
            "conversations WHERE id = {conversation} AND team_id IS NULL"
        )),
        1,
        "the conversation stays, without a team"
    );
    assert_eq!(app.count("audit_log WHERE action = 'team.deleted'"), 1);
    scim.get(&path).assert_error(404, None);
    scim.delete(&path).assert_error(404, None);
});
