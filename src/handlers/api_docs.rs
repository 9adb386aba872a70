//! `/api/docs`: the API reference, rendered from the same OpenAPI document
//! that `/api/v1/openapi.json` serves, so the two cannot disagree.

use actix_web::HttpResponse;
use actix_web::http::StatusCode;
use askama::Template;
use serde_json::Value;

use crate::auth::CurrentUser;
use crate::error::AppResult;
use crate::pages::{Ctx, html_with_status};

pub struct Param {
    pub name: String,
    pub place: String,
    pub required: bool,
    pub kind: String,
    pub description: String,
}

pub struct Reply {
    pub status: String,
    pub description: String,
    pub schema: String,
}

pub struct Operation {
    pub anchor: String,
    pub method: String,
    pub path: String,
    pub summary: String,
    pub params: Vec<Param>,
    pub body: String,
    pub replies: Vec<Reply>,
}

pub struct Group {
    pub tag: String,
    pub operations: Vec<Operation>,
}

pub struct Field {
    pub name: String,
    pub kind: String,
    pub required: bool,
    pub description: String,
}

pub struct Schema {
    pub name: String,
    pub fields: Vec<Field>,
}

#[derive(Template)]
#[template(path = "pages/api_docs.html")]
struct DocsPage {
    ctx: Ctx,
    groups: Vec<Group>,
    schemas: Vec<Schema>,
}

fn text(v: &Value) -> String {
    v.as_str().unwrap_or_default().to_string()
}

/// OpenAPI descriptions are CommonMark: rendered and sanitized like any
/// Markdown in Confer, without the paragraph around a one-line text.
fn described(v: &Value) -> String {
    let html = crate::markdown::render(v.as_str().unwrap_or_default());
    let html = html.trim();
    match html
        .strip_prefix("<p>")
        .and_then(|inner| inner.strip_suffix("</p>"))
    {
        Some(inner) if !inner.contains("<p>") => inner.to_string(),
        _ => html.to_string(),
    }
}

/// A schema in a word or two: `string (date-time)`, `Conversation`, `array of Message`.
fn kind(schema: &Value) -> String {
    if let Some(r) = schema.get("$ref").and_then(Value::as_str) {
        return r.rsplit('/').next().unwrap_or(r).to_string();
    }
    if let Some(any) = schema.get("oneOf").and_then(Value::as_array) {
        return any
            .iter()
            .map(kind)
            .filter(|k| k != "null")
            .collect::<Vec<_>>()
            .join(" or ");
    }
    let types: Vec<String> = match schema.get("type") {
        Some(Value::String(t)) => vec![t.clone()],
        Some(Value::Array(ts)) => ts.iter().map(text).filter(|t| t != "null").collect(),
        _ => vec![],
    };
    let base = types.join(" or ");
    if base == "array" {
        return format!(
            "array of {}",
            schema.get("items").map(kind).unwrap_or_default()
        );
    }
    match schema.get("format").and_then(Value::as_str) {
        Some(format) => format!("{base} ({format})"),
        None if base.is_empty() => "any".into(),
        None => base,
    }
}

fn operations(doc: &Value) -> Vec<Group> {
    let mut groups: Vec<Group> = Vec::new();
    let Some(paths) = doc["paths"].as_object() else {
        return groups;
    };
    for (path, item) in paths {
        let Some(item) = item.as_object() else {
            continue;
        };
        for (method, op) in item {
            let tag = op["tags"][0].as_str().unwrap_or("api").to_string();
            let params = op["parameters"]
                .as_array()
                .map(|ps| {
                    ps.iter()
                        .map(|p| Param {
                            name: text(&p["name"]),
                            place: text(&p["in"]),
                            required: p["required"].as_bool().unwrap_or(false),
                            kind: kind(&p["schema"]),
                            description: described(&p["description"]),
                        })
                        .collect()
                })
                .unwrap_or_default();
            let body = op["requestBody"]["content"]["application/json"]["schema"].clone();
            let mut replies: Vec<Reply> = op["responses"]
                .as_object()
                .map(|rs| {
                    rs.iter()
                        .map(|(status, r)| Reply {
                            status: status.clone(),
                            description: described(&r["description"]),
                            schema: r["content"]["application/json"]["schema"]
                                .as_object()
                                .map(|_| kind(&r["content"]["application/json"]["schema"]))
                                .unwrap_or_default(),
                        })
                        .collect()
                })
                .unwrap_or_default();
            replies.sort_by(|a, b| a.status.cmp(&b.status));
            let summary = described(&Value::String(
                [text(&op["summary"]), text(&op["description"])]
                    .into_iter()
                    .filter(|s| !s.is_empty())
                    .collect::<Vec<_>>()
                    .join(" "),
            ));
            let operation = Operation {
                anchor: format!("{method}-{}", path.replace(['/', '{', '}', '.'], "-")),
                method: method.to_uppercase(),
                path: path.clone(),
                summary,
                params,
                body: if body.is_null() {
                    String::new()
                } else {
                    kind(&body)
                },
                replies,
            };
            match groups.iter_mut().find(|g| g.tag == tag) {
                Some(group) => group.operations.push(operation),
                None => groups.push(Group {
                    tag,
                    operations: vec![operation],
                }),
            }
        }
    }
    groups
}

fn schemas(doc: &Value) -> Vec<Schema> {
    let Some(all) = doc["components"]["schemas"].as_object() else {
        return Vec::new();
    };
    all.iter()
        .map(|(name, schema)| {
            let required: Vec<&str> = schema["required"]
                .as_array()
                .map(|r| r.iter().filter_map(Value::as_str).collect())
                .unwrap_or_default();
            Schema {
                name: name.clone(),
                fields: schema["properties"]
                    .as_object()
                    .map(|props| {
                        props
                            .iter()
                            .map(|(field, s)| Field {
                                required: required.contains(&field.as_str()),
                                name: field.clone(),
                                kind: kind(s),
                                description: described(&s["description"]),
                            })
                            .collect()
                    })
                    .unwrap_or_default(),
            }
        })
        .collect()
}

pub async fn show(current: CurrentUser) -> AppResult<HttpResponse> {
    let doc = crate::api::document();
    html_with_status(
        &DocsPage {
            ctx: Ctx::for_user(&current, "api-docs"),
            groups: operations(doc),
            schemas: schemas(doc),
        },
        StatusCode::OK,
    )
}
