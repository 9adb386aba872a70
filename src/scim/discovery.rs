//! What identity providers read to learn what this service supports
//! (RFC 7644 §4): `/ServiceProviderConfig`, `/ResourceTypes`, `/Schemas`.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use actix_web::web;
use serde_json::{Value, json};

use super::groups::GROUP_SCHEMA;
use super::users::{EXTENSION, USER_SCHEMA};
use super::{LIST_SCHEMA, MAX_COUNT, Provisioner, ScimError, ScimResult, scim_json};

/// An attribute definition with RFC 7643's defaults (§2.2), then `changes`.
fn attr(name: &str, kind: &str, description: &str, changes: Value) -> Value {
    let mut attribute = json!({
        "name": name,
        "type": kind,
        "multiValued": false,
        "description": description,
        "required": false,
        "caseExact": false,
        "mutability": "readWrite",
        "returned": "default",
        "uniqueness": "none",
    });
    if let (Some(target), Some(changes)) = (attribute.as_object_mut(), changes.as_object()) {
        for (key, value) in changes {
            target.insert(key.clone(), value.clone());
        }
    }
    attribute
}

fn string(name: &str, description: &str) -> Value {
    attr(name, "string", description, json!({}))
}

fn user_schema() -> Value {
    json!({
        "id": USER_SCHEMA,
        "name": "User",
        "description": "A Confer user. userName is the email address they sign in with.",
        "attributes": [
            attr("userName", "string", "The email address: how the user signs in. Unique, compared case-insensitively.",
                json!({ "required": true, "uniqueness": "server" })),
            attr("name", "complex", "Confer keeps one name; it is split at its first space into given and family names.",
                json!({ "subAttributes": [
                    string("formatted", "The whole name."),
                    string("givenName", "The first word of the name."),
                    string("familyName", "The rest of the name."),
                ] })),
            string("displayName", "The user's name, as Confer shows it."),
            attr("emails", "complex", "The one work address, the same as userName.",
                json!({ "multiValued": true, "subAttributes": [
                    string("value", "The email address."),
                    attr("type", "string", "Always work.", json!({ "canonicalValues": ["work"] })),
                    attr("primary", "boolean", "Always true.", json!({})),
                ] })),
            attr("active", "boolean", "false deactivates the user: signed out everywhere, API tokens revoked, open conversations handed back. Their history stays.", json!({})),
            string("preferredLanguage", "The interface language (en, es or de; others mean the organisation's default)."),
            string("timezone", "An IANA timezone, e.g. Europe/Berlin."),
            attr("groups", "complex", "The user's teams; change them through /Groups.",
                json!({ "multiValued": true, "mutability": "readOnly", "subAttributes": [
                    attr("value", "string", "The team's id.", json!({ "mutability": "readOnly" })),
                    attr("display", "string", "The team's name.", json!({ "mutability": "readOnly" })),
                    attr("$ref", "reference", "The group's URI.", json!({ "mutability": "readOnly", "referenceTypes": ["Group"] })),
                ] })),
        ],
    })
}

fn extension_schema() -> Value {
    json!({
        "id": EXTENSION,
        "name": "ConferUser",
        "description": "Confer's own user attributes. Absent on a replace, they keep their values.",
        "attributes": [
            attr("userType", "string", "The seat: full_time (the default), collaborator or seasonal.",
                json!({ "canonicalValues": ["full_time", "collaborator", "seasonal"] })),
            string("role", "A role key: admin, manager, agent (the default) or a custom role's. Never owner; collaborators have none."),
            string("accessStarts", "Seasonal users: the first day of access (YYYY-MM-DD)."),
            string("accessEnds", "Seasonal users: the last day of access (YYYY-MM-DD)."),
        ],
    })
}

fn group_schema() -> Value {
    json!({
        "id": GROUP_SCHEMA,
        "name": "Group",
        "description": "A Confer team.",
        "attributes": [
            attr("displayName", "string", "The team's name (unique, at most 80 characters).",
                json!({ "required": true, "uniqueness": "server" })),
            attr("members", "complex", "The team's members (users).",
                json!({ "multiValued": true, "subAttributes": [
                    attr("value", "string", "The user's id.", json!({ "mutability": "immutable" })),
                    attr("display", "string", "The user's name.", json!({ "mutability": "readOnly" })),
                    attr("type", "string", "Always User.", json!({ "mutability": "readOnly", "canonicalValues": ["User"] })),
                    attr("$ref", "reference", "The user's URI.", json!({ "mutability": "readOnly", "referenceTypes": ["User"] })),
                ] })),
        ],
    })
}

fn with_meta(mut resource: Value, kind: &str, location: String) -> Value {
    resource["meta"] = json!({ "resourceType": kind, "location": location });
    resource
}

fn schemas_of(p: &Provisioner) -> Vec<Value> {
    [user_schema(), extension_schema(), group_schema()]
        .into_iter()
        .map(|mut schema| {
            schema["schemas"] = json!(["urn:ietf:params:scim:schemas:core:2.0:Schema"]);
            let location = format!(
                "{}/Schemas/{}",
                p.base_url,
                schema["id"].as_str().unwrap_or_default()
            );
            with_meta(schema, "Schema", location)
        })
        .collect()
}

fn resource_types_of(p: &Provisioner) -> Vec<Value> {
    let kind = |id: &str, endpoint: &str, description: &str, schema: &str, extensions: Value| {
        with_meta(
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ResourceType"],
                "id": id,
                "name": id,
                "endpoint": endpoint,
                "description": description,
                "schema": schema,
                "schemaExtensions": extensions,
            }),
            "ResourceType",
            format!("{}/ResourceTypes/{id}", p.base_url),
        )
    };
    vec![
        kind(
            "User",
            "/Users",
            "Confer users",
            USER_SCHEMA,
            json!([{ "schema": EXTENSION, "required": false }]),
        ),
        kind("Group", "/Groups", "Confer teams", GROUP_SCHEMA, json!([])),
    ]
}

fn list(resources: Vec<Value>) -> HttpResponse {
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": [LIST_SCHEMA],
            "totalResults": resources.len(),
            "startIndex": 1,
            "itemsPerPage": resources.len(),
            "Resources": resources,
        }),
    )
}

fn one(resources: Vec<Value>, id: &str, kind: &str) -> ScimResult<HttpResponse> {
    resources
        .into_iter()
        .find(|r| r["id"].as_str().is_some_and(|i| i.eq_ignore_ascii_case(id)))
        .map(|r| scim_json(StatusCode::OK, &r))
        .ok_or_else(|| ScimError::not_found(format!("No {kind} {id}.")))
}

pub async fn service_provider_config(p: Provisioner) -> HttpResponse {
    scim_json(
        StatusCode::OK,
        &json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:ServiceProviderConfig"],
            "patch": { "supported": true },
            "bulk": { "supported": false, "maxOperations": 0, "maxPayloadSize": 0 },
            "filter": { "supported": true, "maxResults": MAX_COUNT },
            "changePassword": { "supported": false },
            "sort": { "supported": false },
            "etag": { "supported": true },
            "authenticationSchemes": [{
                "type": "oauthbearertoken",
                "name": "OAuth Bearer Token",
                "description": "The organisation's SCIM token, sent as `Authorization: Bearer <token>`.",
                "primary": true,
            }],
            "meta": {
                "resourceType": "ServiceProviderConfig",
                "location": format!("{}/ServiceProviderConfig", p.base_url),
            },
        }),
    )
}

pub async fn resource_types(p: Provisioner) -> HttpResponse {
    list(resource_types_of(&p))
}

pub async fn resource_type(p: Provisioner, name: web::Path<String>) -> ScimResult<HttpResponse> {
    one(resource_types_of(&p), &name, "resource type")
}

pub async fn schemas(p: Provisioner) -> HttpResponse {
    list(schemas_of(&p))
}

pub async fn schema(p: Provisioner, urn: web::Path<String>) -> ScimResult<HttpResponse> {
    one(schemas_of(&p), &urn, "schema")
}
