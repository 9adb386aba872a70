//! Provisioning by group: Settings > Provisioning maps SCIM groups to a
//! type, a role and teams; joining a mapped group applies them on the next
//! sync, leaving every mapped group can deactivate, conflicts resolve in
//! the documented order, and every change is audited as provisioning.

use super::*;

/// Adds a mapping through Settings > Provisioning as the admin.
fn map(app: &TestApp, fields: &[(&str, &str)]) -> crate::support::Response {
    app.sign_in("admin@acme.test")
        .post_form("/settings/provisioning", fields)
}

db_test!(
    joining_a_mapped_group_provisions_and_leaving_deactivates,
    |app| {
        let app = app.with_org();
        app.staff();
        let billing = app.team("Billing");
        let dana = app.user("dana@partner.test", "Dana Expert").create();
        let eve = app.user("eve@acme.test", "Eve Engineer").create();
        let scim = Scim::on(&app);

        // Refused forms keep what was typed and add nothing.
        let bad = map(
            &app,
            &[
                ("match_kind", "display_name"),
                ("match_value", "Support leads"),
                ("user_type", "full_time"),
            ],
        );
        assert_eq!(bad.status, 422);
        assert!(bad.body.contains("Full-time members need a role."));
        assert!(bad.body.contains("value=\"Support leads\""));
        assert_eq!(app.count("provisioning_mappings"), 0);
        // Agents may not see the page at all.
        assert_eq!(
            app.sign_in("agent@acme.test")
                .status_only("/settings/provisioning"),
            403
        );

        let billing_text = billing.to_string();
        map(
            &app,
            &[
                ("match_kind", "display_name"),
                ("match_value", "support EXPERTS"),
                ("user_type", "collaborator"),
                ("team_ids", &billing_text),
                ("deactivate_on_leave", "on"),
            ],
        )
        .expect_redirect("/settings/provisioning");
        let manager_role = app.role_id(BuiltinRole::Manager).to_string();
        map(
            &app,
            &[
                ("match_kind", "external_id"),
                ("match_value", "grp-leads"),
                ("user_type", "full_time"),
                ("role_id", &manager_role),
            ],
        )
        .expect_redirect("/settings/provisioning");
        let page = app.sign_in("admin@acme.test").get("/settings/provisioning");
        assert!(page.body.contains("Group named “support EXPERTS”"));
        assert!(page.body.contains("Collaborator"));
        assert!(page.body.contains("Full-time, Manager"));
        assert_eq!(
            app.count("audit_log WHERE action = 'provisioning.mapping_created'"),
            2
        );

        // Joining "Support experts" in the identity provider: a collaborator
        // in Billing on this sync.
        let experts = scim.post(
            "/Groups",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Support experts",
                "members": [{ "value": dana.to_string() }, { "value": eve.to_string() }],
            }),
        );
        assert_eq!(experts.status, 201, "{}", experts.body);
        let experts_path = format!("/Groups/{}", experts.id());
        for user in [dana, eve] {
            assert_eq!(
                app.count(&format!(
                    "users WHERE id = {user} AND user_type = 'collaborator' AND role_id IS NULL"
                )),
                1
            );
            assert_eq!(
                app.count(&format!(
                    "team_memberships WHERE user_id = {user} AND team_id = {billing}"
                )),
                1
            );
        }
        assert_eq!(
            app.count(
                "audit_log WHERE action = 'user.updated' AND actor_name = 'SCIM provisioning'"
            ),
            2,
            "audited as done by provisioning"
        );

        // Eve also joins the leads group: full-time wins, with its role.
        let leads = scim.post(
            "/Groups",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Leads",
                "externalId": "grp-leads",
                "members": [{ "value": eve.to_string() }],
            }),
        );
        assert_eq!(leads.status, 201, "{}", leads.body);
        assert_eq!(
            app.count(&format!(
                "users WHERE id = {eve} AND user_type = 'full_time' AND role_id = {manager_role}"
            )),
            1
        );

        // Dana leaves the only mapped group she is in: deactivated.
        let removed = scim.patch(
            &experts_path,
            json!([{ "op": "remove", "path": format!("members[value eq \"{dana}\"]") }]),
        );
        assert_eq!(removed.status, 200, "{}", removed.body);
        assert_eq!(
            app.count(&format!("users WHERE id = {dana} AND active = FALSE")),
            1
        );
        assert_eq!(
            app.count(
                "audit_log WHERE action = 'user.deactivated' AND actor_name = 'SCIM provisioning'"
            ),
            1
        );
        // Eve leaves "Support experts" but is still in a mapped group: active,
        // and now only the leads mapping speaks.
        scim.patch(
            &experts_path,
            json!([{ "op": "remove", "path": format!("members[value eq \"{eve}\"]") }]),
        );
        assert_eq!(
            app.count(&format!(
                "users WHERE id = {eve} AND active = TRUE AND user_type = 'full_time'"
            )),
            1
        );

        // A new mapping applies to the group's members at once.
        let carl = app.user("carl@acme.test", "Carl Contractor").create();
        let partners = scim.post(
            "/Groups",
            json!({
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
                "displayName": "Partners",
                "members": [{ "value": carl.to_string() }],
            }),
        );
        assert_eq!(partners.status, 201);
        assert_eq!(
            app.count(&format!(
                "users WHERE id = {carl} AND user_type = 'full_time'"
            )),
            1
        );
        map(
            &app,
            &[
                ("match_kind", "display_name"),
                ("match_value", "Partners"),
                ("user_type", "collaborator"),
            ],
        )
        .expect_redirect("/settings/provisioning");
        assert_eq!(
            app.count(&format!(
                "users WHERE id = {carl} AND user_type = 'collaborator'"
            )),
            1
        );

        // Removing a mapping leaves its members as they are.
        let mapping = app.number("SELECT MAX(id) FROM provisioning_mappings");
        app.sign_in("admin@acme.test")
            .post_form(&format!("/settings/provisioning/{mapping}/delete"), &[])
            .expect_redirect("/settings/provisioning");
        assert_eq!(app.count("provisioning_mappings"), 2);
        assert_eq!(
            app.count(&format!(
                "users WHERE id = {carl} AND user_type = 'collaborator'"
            )),
            1
        );
    }
);

db_test!(a_sync_the_allowance_refuses_changes_nothing, |app| {
    let app = app.with_org();
    app.staff();
    app.sql("UPDATE org_settings SET collaborator_allowance = 'fixed', collaborator_allowance_fixed = 1");
    let frank = app.user("frank@acme.test", "Frank Full").create();
    map(
        &app,
        &[
            ("match_kind", "display_name"),
            ("match_value", "Externals"),
            ("user_type", "collaborator"),
        ],
    )
    .expect_redirect("/settings/provisioning");
    let scim = Scim::on(&app);
    let refused = scim.post(
        "/Groups",
        json!({
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"],
            "displayName": "Externals",
            "members": [{ "value": frank.to_string() }],
        }),
    );
    assert_eq!(refused.status, 409, "{}", refused.body);
    assert_eq!(
        app.count("teams WHERE name = 'Externals'"),
        0,
        "nothing written"
    );
    assert_eq!(
        app.count(&format!(
            "users WHERE id = {frank} AND user_type = 'full_time'"
        )),
        1
    );
});
