//! SCIM 2.0 provisioning at /scim/v2: the bearer token, discovery, users
//! (create, filter, replace, PATCH as Okta and Entra ID send it,
//! deactivation with its effects, ETags), the Owner's protection, groups as
//! teams; and the filter parser on its own.

use confer::policy::BuiltinRole;
use confer::scim::filter::{self, AttrPath, CompareOp, Filter};
use serde_json::{Value, json};

use crate::db_test;
use crate::support::TestApp;

mod filters;
mod groups;
mod mappings;
mod users;

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
