//! SCIM 2.0 provisioning at /scim/v2: the bearer token, discovery, users
//! (create, filter, replace, PATCH as Okta and Entra ID send it,
//! deactivation with its effects, ETags), the Owner's protection, groups as
//! teams; and the filter parser on its own.

use confer::policy::BuiltinRole;
use confer::scim::filter::{self, AttrPath, CompareOp, Filter};
use serde_json::{Value, json};

use crate::db_test;
use crate::support::TestApp;

const TOKEN: &str = "test-scim-token";
const EXTENSION: &str = "urn:ietf:params:scim:schemas:extension:confer:2.0:User";
const PATCH_OP: &str = "urn:ietf:params:scim:api:messages:2.0:PatchOp";

struct Reply {
    status: u16,
    headers: Vec<(String, String)>,
    body: Value,
}

impl Reply {
    fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|(n, _)| n.eq_ignore_ascii_case(name))
            .map(|(_, v)| v.as_str())
    }

    /// Asserts a SCIM error with this status (and `scimType`, if given).
    fn assert_error(&self, status: u16, scim_type: Option<&str>) {
        assert_eq!(self.status, status, "{}", self.body);
        assert_eq!(
            self.body["schemas"],
            json!(["urn:ietf:params:scim:api:messages:2.0:Error"])
        );
        assert_eq!(self.body["status"], json!(status.to_string()));
        assert!(self.body["detail"].is_string(), "{}", self.body);
        if let Some(scim_type) = scim_type {
            assert_eq!(self.body["scimType"], json!(scim_type), "{}", self.body);
        }
        assert_eq!(self.header("content-type"), Some("application/scim+json"));
    }

    fn id(&self) -> String {
        self.body["id"].as_str().expect("id").to_string()
    }
}

/// A SCIM client with the organisation's token (`token: None` sends none).
struct Scim {
    base: String,
    agent: ureq::Agent,
    token: Option<String>,
}

impl Scim {
    /// Turns SCIM on with `TOKEN` and returns a client that sends it.
    fn on(app: &TestApp) -> Self {
        app.sql(&format!(
            "UPDATE org_settings SET scim_token_hash = '{}'",
            confer::handlers::inbound_token_hash(TOKEN)
        ));
        Self::with_token(app, Some(TOKEN))
    }

    fn with_token(app: &TestApp, token: Option<&str>) -> Self {
        Self {
            base: format!("{}/scim/v2", app.base_url),
            agent: ureq::Agent::config_builder()
                .http_status_as_error(false)
                .build()
                .into(),
            token: token.map(str::to_string),
        }
    }

    fn send(
        &self,
        method: &str,
        path: &str,
        body: Option<&Value>,
        headers: &[(&str, &str)],
    ) -> Reply {
        let mut request = ureq::http::Request::builder()
            .method(method)
            .uri(format!("{}{path}", self.base));
        if let Some(token) = &self.token {
            request = request.header("Authorization", format!("Bearer {token}"));
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let result = match body {
            Some(body) => self.agent.run(
                request
                    .header("Content-Type", "application/scim+json")
                    .body(body.to_string())
                    .expect("request"),
            ),
            None => self.agent.run(request.body(()).expect("request")),
        };
        let mut response = result.expect("HTTP request");
        let headers = response
            .headers()
            .iter()
            .map(|(n, v)| (n.to_string(), v.to_str().unwrap_or_default().to_string()))
            .collect();
        let text = response.body_mut().read_to_string().unwrap_or_default();
        Reply {
            status: response.status().as_u16(),
            headers,
            body: if text.is_empty() {
                Value::Null
            } else {
                serde_json::from_str(&text).unwrap_or_else(|_| panic!("not JSON: {text}"))
            },
        }
    }

    fn get(&self, path: &str) -> Reply {
        self.send("GET", path, None, &[])
    }

    fn post(&self, path: &str, body: Value) -> Reply {
        self.send("POST", path, Some(&body), &[])
    }

    fn put(&self, path: &str, body: Value) -> Reply {
        self.send("PUT", path, Some(&body), &[])
    }

    fn patch(&self, path: &str, operations: Value) -> Reply {
        self.send(
            "PATCH",
            path,
            Some(&json!({ "schemas": [PATCH_OP], "Operations": operations })),
            &[],
        )
    }

    fn delete(&self, path: &str) -> Reply {
        self.send("DELETE", path, None, &[])
    }

    /// The `userName`s a filter finds, in order.
    fn find(&self, filter: &str) -> Vec<String> {
        let reply = self.get(&format!("/Users?filter={}", url_encode(filter)));
        assert_eq!(reply.status, 200, "{filter}: {}", reply.body);
        reply.body["Resources"]
            .as_array()
            .expect("Resources")
            .iter()
            .map(|r| r["userName"].as_str().expect("userName").to_string())
            .collect()
    }
}

fn url_encode(text: &str) -> String {
    confer::urlencoded::url_encode(text)
}

/// Jane as Entra ID creates her.
fn jane() -> Value {
    json!({
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User", EXTENSION],
        "externalId": "00aa-jane",
        "userName": "Jane.Doe@Acme.test",
        "active": true,
        "displayName": "Jane Doe",
        "name": { "givenName": "Jane", "familyName": "Doe", "formatted": "Jane Doe" },
        "emails": [{ "value": "Jane.Doe@Acme.test", "type": "work", "primary": true }],
        "preferredLanguage": "de-DE",
        "timezone": "Europe/Berlin",
        "title": "Support lead",
        "urn:ietf:params:scim:schemas:extension:enterprise:2.0:User": { "department": "Support" },
        EXTENSION: { "role": "manager" },
    })
}

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

fn path(attr: &str) -> AttrPath {
    AttrPath {
        schema: None,
        attr: attr.into(),
        sub: None,
    }
}

#[test]
fn filters_parse_with_scim_precedence() {
    let parsed = filter::parse("a eq 1 or b pr and not (c eq \"x\")").unwrap();
    assert_eq!(
        parsed,
        Filter::Or(
            Box::new(Filter::Compare(path("a"), CompareOp::Eq, json!(1))),
            Box::new(Filter::And(
                Box::new(Filter::Present(path("b"))),
                Box::new(Filter::Not(Box::new(Filter::Compare(
                    path("c"),
                    CompareOp::Eq,
                    json!("x")
                )))),
            )),
        )
    );
    assert_eq!(
        filter::parse("userName EQ \"a\\\"b\"").unwrap(),
        Filter::Compare(path("userName"), CompareOp::Eq, json!("a\"b"))
    );
    assert_eq!(
        filter::parse("active Eq TRUE").unwrap(),
        Filter::Compare(path("active"), CompareOp::Eq, json!(true))
    );
    let urn = filter::parse("urn:ietf:params:scim:schemas:core:2.0:User:name.givenName sw \"J\"")
        .unwrap();
    assert_eq!(
        urn,
        Filter::Compare(
            AttrPath {
                schema: Some("urn:ietf:params:scim:schemas:core:2.0:User".into()),
                attr: "name".into(),
                sub: Some("givenName".into()),
            },
            CompareOp::Sw,
            json!("J")
        )
    );
    for bad in [
        "",
        "userName",
        "userName eq",
        "userName eq \"open",
        "userName foo \"x\"",
        "userName eq \"x\" extra",
        "(userName eq \"x\"",
        "not userName eq \"x\"",
        "emails[type eq \"work\"",
        "1abc eq \"x\"",
        "userName eq bare",
        "userName eq \"x\" & b eq \"y\"",
    ] {
        assert!(filter::parse(bad).is_err(), "{bad:?} should not parse");
    }
    let deep = format!("{}a pr{}", "(".repeat(100), ")".repeat(100));
    assert!(filter::parse(&deep).is_err(), "too deep");
}

#[test]
fn filters_evaluate_over_representations() {
    let user = json!({
        "id": "7",
        "externalId": "Ext-7",
        "userName": "jane@acme.test",
        "name": { "givenName": "Jane", "familyName": "Doe" },
        "emails": [
            { "value": "jane@acme.test", "type": "work" },
            { "value": "jane@home.test", "type": "home" },
        ],
        "active": true,
        "nickName": "",
        "urn:x:ext:2.0:User": { "role": "manager", "level": 3 },
        "meta": { "created": "2024-05-01T10:00:00Z" },
    });
    let matches = |text: &str| filter::parse(text).unwrap().matches(&user);
    assert!(matches("USERNAME eq \"JANE@ACME.TEST\""));
    assert!(matches("id eq \"7\""));
    assert!(!matches("externalId eq \"ext-7\""));
    assert!(matches("externalId eq \"Ext-7\""));
    assert!(matches(
        "name.givenName co \"an\" and name.familyName ew \"oe\""
    ));
    assert!(matches("emails.value eq \"jane@home.test\""));
    assert!(
        matches("emails co \"home\""),
        "a complex value compares by its value"
    );
    assert!(matches("emails[type eq \"home\" and value sw \"jane\"]"));
    assert!(!matches(
        "emails[type eq \"work\"].value eq \"jane@home.test\""
    ));
    assert!(matches(
        "emails[type eq \"work\"].value eq \"jane@acme.test\""
    ));
    assert!(matches("active eq true") && !matches("active eq false"));
    assert!(!matches("active gt true"));
    assert!(matches("title ne \"x\""), "ne matches a missing attribute");
    assert!(!matches("title pr") && !matches("nickName pr"));
    assert!(matches("title eq null") && matches("userName ne null"));
    assert!(matches("urn:x:ext:2.0:User:role eq \"Manager\""));
    assert!(matches(
        "urn:x:ext:2.0:User:level ge 3 and urn:x:ext:2.0:User:level lt 4"
    ));
    assert!(matches("meta.created gt \"2024-01-01T00:00:00Z\""));
    assert!(matches("not (userName sw \"bob\") or userName sw \"x\""));
}

#[test]
fn patch_paths_parse() {
    let p = filter::parse_path("emails[type eq \"work\"].value").unwrap();
    assert_eq!(p.attr.attr, "emails");
    assert_eq!(p.attr.sub.as_deref(), Some("value"));
    assert_eq!(
        p.filter,
        Some(Filter::Compare(path("type"), CompareOp::Eq, json!("work")))
    );
    let p = filter::parse_path("members[value eq \"12\"]").unwrap();
    assert!(p.attr.is("MEMBERS", None) && p.filter.is_some());
    let p = filter::parse_path(&format!("{EXTENSION}:role")).unwrap();
    assert_eq!(p.attr.schema.as_deref(), Some(EXTENSION));
    assert!(p.attr.is("role", None));
    let p = filter::parse_path("name.givenName").unwrap();
    assert!(p.attr.is("name", Some("GIVENNAME")) && p.filter.is_none());
    for bad in [
        "",
        "name[",
        "emails[type eq \"work\"] x",
        "name.givenName[type pr]",
        "a b",
    ] {
        assert!(filter::parse_path(bad).is_err(), "{bad:?} should not parse");
    }
}

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
