//! The filter and PATCH path parsers, without a server.

use super::*;

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
