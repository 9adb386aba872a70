//! The portable schema for both backends, written by hand: ids are BigInt,
//! times are UTC `Timestamp`, enums are Text. Keep it in step with
//! `migrations/sqlite` and `migrations/postgres`.

diesel::table! {
    org_settings (id) {
        id -> BigInt,
        name -> Text,
        default_language -> Text,
        timezone -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        collaborator_allowance -> Text,
        collaborator_allowance_fixed -> Nullable<Integer>,
        mask_contacts_for_collaborators -> Bool,
        intake_team_id -> Nullable<BigInt>,
        inbound_token_hash -> Nullable<Text>,
        inbound_token_created_at -> Nullable<Timestamp>,
        scim_token_hash -> Nullable<Text>,
        scim_token_created_at -> Nullable<Timestamp>,
        two_factor_required -> Text,
        sso_issuer -> Nullable<Text>,
        sso_client_id -> Nullable<Text>,
        sso_client_secret -> Nullable<Text>,
        sso_label -> Nullable<Text>,
        sso_create_domains -> Text,
        sso_only -> Bool,
        directory_version -> BigInt,
    }
}

diesel::table! {
    roles (id) {
        id -> BigInt,
        key -> Text,
        name -> Text,
        builtin -> Bool,
        permissions -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    users (id) {
        id -> BigInt,
        name -> Text,
        email -> Text,
        password_hash -> Nullable<Text>,
        user_type -> Text,
        role_id -> Nullable<BigInt>,
        language -> Nullable<Text>,
        timezone -> Nullable<Text>,
        conversation_access -> Text,
        active -> Bool,
        access_starts -> Nullable<Date>,
        access_ends -> Nullable<Date>,
        session_version -> Integer,
        last_active_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        deactivated_at -> Nullable<Timestamp>,
        window_closed_for -> Nullable<Date>,
        email_on_mention -> Bool,
        email_on_assignment -> Bool,
        email_on_reply -> Bool,
        scim_external_id -> Nullable<Text>,
        scim_user_name -> Nullable<Text>,
        two_factor_since -> Nullable<Timestamp>,
    }
}

diesel::table! {
    conversation_viewers (conversation_id, user_id) {
        conversation_id -> BigInt,
        user_id -> BigInt,
        seen_at -> Timestamp,
        replying_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    saved_replies (id) {
        id -> BigInt,
        title -> Text,
        body -> Text,
        kind -> Text,
        user_id -> Nullable<BigInt>,
        team_id -> Nullable<BigInt>,
        created_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
    }
}

diesel::table! {
    user_totp (user_id) {
        user_id -> BigInt,
        secret -> Text,
        last_step -> BigInt,
        created_at -> Timestamp,
    }
}

diesel::table! {
    recovery_codes (id) {
        id -> BigInt,
        user_id -> BigInt,
        code_hash -> Text,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    remembered_devices (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        expires_at -> Timestamp,
        created_at -> Timestamp,
    }
}

diesel::table! {
    teams (id) {
        id -> BigInt,
        name -> Text,
        created_at -> Timestamp,
        external_id -> Nullable<Text>,
    }
}

diesel::table! {
    team_memberships (team_id, user_id) {
        team_id -> BigInt,
        user_id -> BigInt,
    }
}

diesel::table! {
    login_failures (id) {
        id -> BigInt,
        scope -> Text,
        failed_at -> Timestamp,
    }
}

diesel::table! {
    organizations (id) {
        id -> BigInt,
        name -> Text,
        domains -> Text,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    customers (id) {
        id -> BigInt,
        name -> Text,
        email -> Nullable<Text>,
        phone -> Nullable<Text>,
        organization_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Nullable<Timestamp>,
        blocked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    conversation_counts (team_key, assignee_key, status) {
        team_key -> BigInt,
        assignee_key -> BigInt,
        status -> Text,
        n -> BigInt,
    }
}

diesel::table! {
    conversations (id) {
        id -> BigInt,
        subject -> Text,
        customer_id -> BigInt,
        status -> Text,
        snoozed_until -> Nullable<Timestamp>,
        priority -> Text,
        assignee_id -> Nullable<BigInt>,
        team_id -> Nullable<BigInt>,
        channel -> Text,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        last_activity_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        folder -> Nullable<Text>,
        moved_at -> Nullable<Timestamp>,
        preview -> Nullable<Text>,
        waiting_since -> Nullable<Timestamp>,
        timeline_version -> BigInt,
    }
}

diesel::table! {
    markup_version (id) {
        id -> Integer,
        version -> Integer,
    }
}

diesel::table! {
    messages (id) {
        id -> BigInt,
        conversation_id -> BigInt,
        kind -> Text,
        author_user_id -> Nullable<BigInt>,
        author_customer_id -> Nullable<BigInt>,
        body -> Text,
        body_html -> Nullable<Text>,
        created_at -> Timestamp,
        email_message_id -> Nullable<Text>,
        /// `web` or `email`: email bodies are plain text, shown as written.
        source -> Text,
        /// The quoted history trimmed off an email, kept for "show quoted text".
        quoted -> Nullable<Text>,
    }
}

diesel::table! {
    outbox (id) {
        id -> BigInt,
        kind -> Text,
        recipient -> Text,
        subject -> Text,
        body_text -> Text,
        reply_to -> Nullable<Text>,
        status -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        last_error -> Nullable<Text>,
        claimed_until -> Nullable<Timestamp>,
        claim_token -> Nullable<Text>,
        created_at -> Timestamp,
        sent_at -> Nullable<Timestamp>,
        message_id -> Nullable<Text>,
        in_reply_to -> Nullable<Text>,
        references_header -> Nullable<Text>,
    }
}

diesel::table! {
    tags (id) {
        id -> BigInt,
        name -> Text,
    }
}

diesel::table! {
    conversation_tags (conversation_id, tag_id) {
        conversation_id -> BigInt,
        tag_id -> BigInt,
    }
}

diesel::table! {
    attachments (id) {
        id -> BigInt,
        conversation_id -> BigInt,
        message_id -> Nullable<BigInt>,
        filename -> Text,
        content_type -> Text,
        size_bytes -> BigInt,
        content_id -> Nullable<Text>,
        inline -> Bool,
        sha256 -> Text,
        data -> Binary,
        created_at -> Timestamp,
    }
}
diesel::table! {
    outbox_attachments (outbox_id, attachment_id) {
        outbox_id -> BigInt,
        attachment_id -> BigInt,
    }
}
diesel::table! {
    inbound_mail (id) {
        id -> BigInt,
        received_at -> Timestamp,
        sender -> Nullable<Text>,
        subject -> Text,
        message_id -> Nullable<Text>,
        outcome -> Text,
        detail -> Text,
        conversation_id -> Nullable<BigInt>,
    }
}
diesel::joinable!(outbox_attachments -> attachments (attachment_id));
diesel::joinable!(attachments -> messages (message_id));
diesel::table! {
    kb_categories (id) {
        id -> BigInt,
        name -> Text,
        slug -> Text,
        description -> Text,
        position -> Integer,
        created_at -> Timestamp,
    }
}
diesel::table! {
    kb_sections (id) {
        id -> BigInt,
        category_id -> BigInt,
        name -> Text,
        slug -> Text,
        position -> Integer,
        created_at -> Timestamp,
    }
}
diesel::table! {
    kb_articles (id) {
        id -> BigInt,
        section_id -> BigInt,
        translation_of -> Nullable<BigInt>,
        language -> Text,
        title -> Text,
        slug -> Text,
        body -> Text,
        body_html -> Nullable<Text>,
        state -> Text,
        position -> Integer,
        author_id -> Nullable<BigInt>,
        editor_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        published_at -> Nullable<Timestamp>,
    }
}
diesel::table! {
    kb_revisions (id) {
        id -> BigInt,
        article_id -> BigInt,
        title -> Text,
        body -> Text,
        state -> Text,
        editor_id -> Nullable<BigInt>,
        editor_name -> Text,
        created_at -> Timestamp,
    }
}
diesel::joinable!(kb_sections -> kb_categories (category_id));
diesel::joinable!(kb_articles -> kb_sections (section_id));
diesel::joinable!(kb_revisions -> kb_articles (article_id));
diesel::table! {
    tasks (id) {
        id -> BigInt,
        title -> Text,
        description -> Text,
        description_html -> Nullable<Text>,
        due_on -> Nullable<Date>,
        assignee_id -> BigInt,
        creator_id -> Nullable<BigInt>,
        status -> Text,
        conversation_id -> Nullable<BigInt>,
        customer_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        updated_at -> Timestamp,
        completed_at -> Nullable<Timestamp>,
        due_notified_at -> Nullable<Timestamp>,
    }
}
diesel::table! {
    task_comments (id) {
        id -> BigInt,
        task_id -> BigInt,
        author_id -> Nullable<BigInt>,
        body -> Text,
        body_html -> Nullable<Text>,
        created_at -> Timestamp,
    }
}
diesel::joinable!(task_comments -> tasks (task_id));
diesel::joinable!(conversation_tags -> tags (tag_id));
diesel::joinable!(conversation_tags -> conversations (conversation_id));

diesel::table! {
    invitations (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        invited_by -> Nullable<BigInt>,
        outbox_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        accepted_at -> Nullable<Timestamp>,
        superseded -> Bool,
    }
}

diesel::table! {
    audit_log (id) {
        id -> BigInt,
        actor_id -> Nullable<BigInt>,
        actor_name -> Text,
        action -> Text,
        target_type -> Text,
        target_id -> Nullable<BigInt>,
        target_label -> Text,
        before_state -> Nullable<Text>,
        after_state -> Nullable<Text>,
        ip -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::table! {
    password_resets (id) {
        id -> BigInt,
        user_id -> BigInt,
        token_hash -> Text,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        used_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    profile_notes (id) {
        id -> BigInt,
        customer_id -> Nullable<BigInt>,
        organization_id -> Nullable<BigInt>,
        author_id -> BigInt,
        body -> Text,
        body_html -> Nullable<Text>,
        created_at -> Timestamp,
    }
}

diesel::joinable!(profile_notes -> users (author_id));
diesel::table! {
    rate_events (id) {
        id -> BigInt,
        scope -> Text,
        at -> Timestamp,
    }
}

diesel::table! {
    notifications (id) {
        id -> BigInt,
        user_id -> BigInt,
        kind -> Text,
        conversation_id -> Nullable<BigInt>,
        actor_id -> Nullable<BigInt>,
        created_at -> Timestamp,
        read_at -> Nullable<Timestamp>,
        task_id -> Nullable<BigInt>,
    }
}

diesel::joinable!(notifications -> conversations (conversation_id));
diesel::table! {
    conversation_reads (user_id, conversation_id) {
        user_id -> BigInt,
        conversation_id -> BigInt,
        seen_activity_at -> Timestamp,
    }
}

diesel::table! {
    saved_searches (id) {
        id -> BigInt,
        user_id -> BigInt,
        team_id -> Nullable<BigInt>,
        name -> Text,
        query -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    access_grants (id) {
        id -> BigInt,
        user_id -> BigInt,
        conversation_id -> Nullable<BigInt>,
        customer_id -> Nullable<BigInt>,
        granted_by -> Nullable<BigInt>,
        created_at -> Timestamp,
        expires_at -> Timestamp,
        ended_at -> Nullable<Timestamp>,
        end_reason -> Nullable<Text>,
    }
}

diesel::table! {
    refused_attempts (user_id, channel, action, hour) {
        user_id -> BigInt,
        channel -> Text,
        action -> Text,
        hour -> Timestamp,
        attempts -> Integer,
    }
}

diesel::table! {
    requests (id) {
        id -> BigInt,
        conversation_id -> BigInt,
        question_message_id -> BigInt,
        asked_by -> Nullable<BigInt>,
        asked_of -> BigInt,
        state -> Text,
        due_at -> Nullable<Timestamp>,
        created_at -> Timestamp,
        closed_at -> Nullable<Timestamp>,
        answer_message_id -> Nullable<BigInt>,
        decline_reason -> Nullable<Text>,
        reminded_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(requests -> conversations (conversation_id));

diesel::table! {
    provisioning_mappings (id) {
        id -> BigInt,
        match_kind -> Text,
        match_value -> Text,
        user_type -> Text,
        role_id -> Nullable<BigInt>,
        deactivate_on_leave -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    provisioning_mapping_teams (mapping_id, team_id) {
        mapping_id -> BigInt,
        team_id -> BigInt,
    }
}

diesel::joinable!(provisioning_mapping_teams -> provisioning_mappings (mapping_id));
diesel::joinable!(users -> roles (role_id));
diesel::joinable!(invitations -> outbox (outbox_id));
diesel::joinable!(team_memberships -> teams (team_id));
diesel::joinable!(team_memberships -> users (user_id));
diesel::joinable!(customers -> organizations (organization_id));
diesel::joinable!(conversations -> customers (customer_id));
diesel::joinable!(conversations -> teams (team_id));
diesel::joinable!(saved_replies -> teams (team_id));
diesel::joinable!(conversation_viewers -> users (user_id));
diesel::joinable!(messages -> conversations (conversation_id));

diesel::allow_tables_to_appear_in_same_query!(
    access_grants,
    refused_attempts,
    requests,
    provisioning_mappings,
    provisioning_mapping_teams,
    conversation_reads,
    conversation_viewers,
    saved_replies,
    org_settings,
    api_tokens,
    idempotency_keys,
    webhooks,
    webhook_deliveries,
    roles,
    users,
    teams,
    team_memberships,
    login_failures,
    organizations,
    customers,
    conversations,
    messages,
    outbox,
    invitations,
    audit_log,
    password_resets,
    profile_notes,
    tags,
    conversation_tags,
    rate_events,
    notifications,
    saved_searches,
    attachments,
    outbox_attachments,
    inbound_mail,
    kb_categories,
    kb_sections,
    kb_articles,
    kb_revisions,
    tasks,
    task_comments,
);

diesel::table! {
    api_tokens (id) {
        id -> BigInt,
        user_id -> BigInt,
        name -> Text,
        token_hash -> Text,
        prefix -> Text,
        created_at -> Timestamp,
        last_used_at -> Nullable<Timestamp>,
        revoked_at -> Nullable<Timestamp>,
    }
}

diesel::table! {
    idempotency_keys (id) {
        id -> BigInt,
        token_id -> BigInt,
        idem_key -> Text,
        request_hash -> Text,
        status -> Integer,
        location -> Nullable<Text>,
        body -> Text,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhooks (id) {
        id -> BigInt,
        url -> Text,
        secret -> Text,
        events -> Text,
        active -> Bool,
        created_at -> Timestamp,
    }
}

diesel::table! {
    webhook_deliveries (id) {
        id -> BigInt,
        webhook_id -> BigInt,
        event -> Text,
        payload -> Text,
        state -> Text,
        attempts -> Integer,
        next_attempt_at -> Timestamp,
        locked_until -> Nullable<Timestamp>,
        response_status -> Nullable<Integer>,
        last_error -> Nullable<Text>,
        created_at -> Timestamp,
        delivered_at -> Nullable<Timestamp>,
    }
}

diesel::joinable!(api_tokens -> users (user_id));
diesel::joinable!(webhook_deliveries -> webhooks (webhook_id));
