//! `confer demo`: a living sample workspace for newcomers — teams, an admin,
//! a manager, agents, a seasonal agent, two collaborators, customers in
//! organizations, and conversations with replies and notes. It writes its
//! rows directly, with their back-dated times, in one transaction, and only
//! into an empty database: a fixture with no actor, not a front door.

use chrono::{Duration, NaiveDateTime};

use crate::config::Config;
use crate::db::{DbConn, write_transaction};
use crate::models::conversation::{Channel, MessageKind, Priority, Status};
use crate::models::directory::{self, NewConversation, NewCustomer, NewMessage, NewOrganization};
use crate::models::org::{NewOrgSettings, ORG_ID, OrgSettings};
use crate::models::role::Role;
use crate::models::team::{NewTeam, Team};
use crate::models::user::{NewUser, User};
use crate::models::{kb, task};
use crate::policy::{BuiltinRole, ConversationAccess, UserType};

/// Everyone in the demo signs in with this password.
pub const DEMO_PASSWORD: &str = "confer-demo-password";

struct DemoUser {
    name: &'static str,
    email: &'static str,
    user_type: UserType,
    role: Option<BuiltinRole>,
    access: ConversationAccess,
    teams: &'static [usize],
    language: Option<&'static str>,
}

const TEAMS: [&str; 3] = ["Support", "Billing", "Technical"];

const USERS: &[DemoUser] = &[
    DemoUser {
        name: "Olivia Owens",
        email: "owner@northwind.example",
        user_type: UserType::FullTime,
        role: Some(BuiltinRole::Owner),
        access: ConversationAccess::All,
        teams: &[0],
        language: None,
    },
    DemoUser {
        name: "Adam Adler",
        email: "admin@northwind.example",
        user_type: UserType::FullTime,
        role: Some(BuiltinRole::Admin),
        access: ConversationAccess::All,
        teams: &[0, 2],
        language: None,
    },
    DemoUser {
        name: "Maya Martin",
        email: "manager@northwind.example",
        user_type: UserType::FullTime,
        role: Some(BuiltinRole::Manager),
        access: ConversationAccess::All,
        teams: &[0, 1],
        language: None,
    },
    DemoUser {
        name: "Alex Kim",
        email: "agent@northwind.example",
        user_type: UserType::FullTime,
        role: Some(BuiltinRole::Agent),
        access: ConversationAccess::Teams,
        teams: &[0],
        language: None,
    },
    DemoUser {
        name: "Sofía Ruiz",
        email: "sofia@northwind.example",
        user_type: UserType::FullTime,
        role: Some(BuiltinRole::Agent),
        access: ConversationAccess::Teams,
        teams: &[1],
        language: Some("es"),
    },
    DemoUser {
        name: "Jonas Becker",
        email: "jonas@northwind.example",
        user_type: UserType::Seasonal,
        role: Some(BuiltinRole::Agent),
        access: ConversationAccess::Teams,
        teams: &[0],
        language: Some("de"),
    },
    DemoUser {
        name: "Carla Engel",
        email: "collaborator@northwind.example",
        user_type: UserType::Collaborator,
        role: None,
        access: ConversationAccess::Teams,
        teams: &[2],
        language: None,
    },
    DemoUser {
        name: "Dev Patel",
        email: "dev@northwind.example",
        user_type: UserType::Collaborator,
        role: None,
        access: ConversationAccess::All,
        teams: &[2],
        language: None,
    },
];

const ORGANIZATIONS: [(&str, &str); 3] = [
    ("Acme Rockets", "acme.example"),
    ("Globex", "globex.example"),
    ("Initech", "initech.example"),
];

/// (name, email, organization index)
const CUSTOMERS: [(&str, &str, Option<usize>); 8] = [
    ("Wile Coyote", "wile@acme.example", Some(0)),
    ("Road Runner", "beep@acme.example", Some(0)),
    ("Hank Scorpio", "hank@globex.example", Some(1)),
    ("Frank Grimes", "frank@globex.example", Some(1)),
    ("Peter Gibbons", "peter@initech.example", Some(2)),
    ("Milton Waddams", "milton@initech.example", Some(2)),
    ("Jane Doe", "jane.doe@mail.example", None),
    ("Lars Nilsson", "lars@mail.example", None),
];

/// (subject, customer, team, assignee (index into USERS), status, priority,
/// customer message, reply, note (author index, text))
type Thread = (
    &'static str,
    usize,
    usize,
    Option<usize>,
    Status,
    Priority,
    &'static str,
    Option<&'static str>,
    Option<(usize, &'static str)>,
);

const THREADS: &[Thread] = &[
    (
        "Order #4471 arrived damaged",
        0,
        0,
        Some(3),
        Status::Open,
        Priority::High,
        "The rocket skates arrived with a cracked wheel. Can you send a replacement?",
        Some(
            "Sorry about that! A replacement is on its way; you don't need to send the old pair back.",
        ),
        Some((
            2,
            "Second damaged shipment from this carrier this week — @Carla Engel can you check the packaging spec?",
        )),
    ),
    (
        "Invoice shows the wrong VAT number",
        2,
        1,
        Some(4),
        Status::Pending,
        Priority::Normal,
        "Our invoice for October lists an old VAT number. Please correct it.",
        Some("We've updated your billing profile; the corrected invoice follows shortly."),
        Some((7, "Finance confirmed the new VAT number is valid in VIES.")),
    ),
    (
        "Can't sign in after password reset",
        4,
        2,
        None,
        Status::Open,
        Priority::Urgent,
        "I reset my password and now the login page just reloads.",
        None,
        Some((
            6,
            "Looks like the session cookie is rejected on their proxy; asked for a HAR file.",
        )),
    ),
    (
        "Refund for duplicate charge",
        3,
        1,
        Some(4),
        Status::Done,
        Priority::Normal,
        "I was charged twice for the same order.",
        Some(
            "The duplicate charge has been refunded. It can take 3–5 days to show on your statement.",
        ),
        None,
    ),
    (
        "Feature request: export to CSV",
        5,
        0,
        Some(5),
        Status::Open,
        Priority::Low,
        "It would be great to export my order history as a CSV file.",
        Some("Thanks for the idea — I've passed it on to our product team."),
        Some((3, "Third request this month for exports.")),
    ),
    (
        "API rate limits for bulk orders",
        1,
        2,
        Some(1),
        Status::Open,
        Priority::Normal,
        "We hit 429 errors when placing bulk orders via the API. What are the limits?",
        None,
        Some((
            7,
            "Limits are 600/min per token; they batch at 1,000 — suggested backoff.",
        )),
    ),
    (
        "Change of delivery address",
        6,
        0,
        None,
        Status::Open,
        Priority::Normal,
        "Please deliver my order to my office instead: 12 Harbour Street.",
        None,
        None,
    ),
    (
        "Where is my parcel?",
        7,
        0,
        Some(3),
        Status::Snoozed,
        Priority::Normal,
        "Tracking hasn't updated in four days.",
        Some("The carrier confirms it's in transit; we'll check again on Monday."),
        None,
    ),
    (
        "Upgrade to annual plan",
        2,
        1,
        Some(2),
        Status::Done,
        Priority::Low,
        "We'd like to switch to annual billing.",
        Some("Done — you're now on the annual plan with two months free."),
        None,
    ),
    (
        "Webhook signature mismatch",
        0,
        2,
        None,
        Status::Open,
        Priority::High,
        "Our webhook receiver rejects your signatures since yesterday.",
        None,
        Some((
            6,
            "We rotated the signing key on Tuesday; customer may have cached the old one.",
        )),
    ),
];

/// Fills an empty database. Refuses when anyone is signed up already.
pub fn fill(conn: &mut DbConn, config: &Config) -> Result<String, String> {
    let hash = bcrypt::hash(DEMO_PASSWORD, config.bcrypt_cost).map_err(|e| e.to_string())?;
    let now = chrono::Utc::now().naive_utc();
    write_transaction(conn, |conn| {
        if User::count(conn)? > 0 {
            return Ok(Err(
                "the database already has users; `confer demo` only fills an empty one".to_string(),
            ));
        }
        insert_all(conn, &hash, now)?;
        Ok::<_, diesel::result::Error>(Ok(()))
    })
    .map_err(|e| e.to_string())??;
    let mut summary = format!(
        "Demo workspace ready: {} teams, {} users, {} customers, {} conversations.\n\
         Sign in with any of these (password `{DEMO_PASSWORD}`):\n",
        TEAMS.len(),
        USERS.len(),
        CUSTOMERS.len(),
        THREADS.len()
    );
    for user in USERS {
        let what = match (user.user_type, user.role) {
            (UserType::Collaborator, _) => "collaborator".to_string(),
            (UserType::Seasonal, Some(role)) => format!("seasonal {}", role.key()),
            (_, Some(role)) => role.key().to_string(),
            (_, None) => "no role".to_string(),
        };
        summary.push_str(&format!("  {:<34} {}\n", user.email, what));
    }
    Ok(summary)
}

fn insert_all(conn: &mut DbConn, hash: &str, now: NaiveDateTime) -> diesel::QueryResult<()> {
    if OrgSettings::find(conn)?.is_none() {
        OrgSettings::create(
            conn,
            &NewOrgSettings {
                id: ORG_ID,
                name: "Northwind Outfitters",
                default_language: "en",
                timezone: "Europe/Berlin",
                created_at: now,
                updated_at: now,
            },
        )?;
    }
    let team_ids = TEAMS
        .iter()
        .map(|name| {
            Team::create(
                conn,
                &NewTeam {
                    name,
                    created_at: now,
                },
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let today = now.date();
    let mut user_ids = Vec::new();
    for user in USERS {
        let role_id = match user.role {
            Some(role) => Some(Role::id_of(conn, role)?),
            None => None,
        };
        let seasonal = user.user_type == UserType::Seasonal;
        let id = User::create(
            conn,
            &NewUser {
                name: user.name,
                email: user.email,
                password_hash: Some(hash),
                user_type: user.user_type.key(),
                role_id,
                language: user.language,
                timezone: None,
                conversation_access: user.access.key(),
                active: true,
                access_starts: seasonal.then(|| today - Duration::days(14)),
                access_ends: seasonal.then(|| today + Duration::days(60)),
                session_version: 1,
                created_at: now,
                updated_at: now,
            },
        )?;
        for &team in user.teams {
            Team::add_member(conn, team_ids[team], id)?;
        }
        user_ids.push(id);
    }
    let org_ids = ORGANIZATIONS
        .iter()
        .map(|(name, domains)| {
            directory::create_organization(
                conn,
                &NewOrganization {
                    name,
                    domains,
                    created_at: now,
                },
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let customer_ids = CUSTOMERS
        .iter()
        .map(|(name, email, org)| {
            directory::create_customer(
                conn,
                &NewCustomer {
                    name,
                    email: Some(email),
                    phone: None,
                    organization_id: org.map(|i| org_ids[i]),
                    created_at: now - Duration::days(30),
                },
            )
        })
        .collect::<Result<Vec<_>, _>>()?;
    let mut conversation_ids = Vec::new();
    for (n, &(subject, customer, team, assignee, status, priority, first, reply, note)) in
        THREADS.iter().enumerate()
    {
        let opened = now - Duration::hours(6 * (THREADS.len() - n) as i64);
        let mut last = opened;
        let conversation_id = directory::create_conversation(
            conn,
            &NewConversation {
                subject,
                customer_id: customer_ids[customer],
                status,
                snoozed_until: (status == Status::Snoozed).then(|| now + Duration::days(2)),
                priority,
                assignee_id: assignee.map(|i| user_ids[i]),
                team_id: Some(team_ids[team]),
                channel: if n % 3 == 2 {
                    Channel::WebForm
                } else {
                    Channel::Email
                },
                created_at: opened,
                updated_at: opened,
                last_activity_at: opened,
                closed_at: None,
            },
        )?;
        directory::create_message(
            conn,
            &NewMessage {
                conversation_id,
                kind: MessageKind::Customer,
                author_user_id: None,
                author_customer_id: Some(customer_ids[customer]),
                body: first,
                created_at: opened,
            },
        )?;
        if let Some((author, text)) = note {
            last += Duration::minutes(20);
            directory::create_message(
                conn,
                &NewMessage {
                    conversation_id,
                    kind: MessageKind::Note,
                    author_user_id: Some(user_ids[author]),
                    author_customer_id: None,
                    body: text,
                    created_at: last,
                },
            )?;
        }
        if let Some(text) = reply {
            last += Duration::minutes(45);
            directory::create_message(
                conn,
                &NewMessage {
                    conversation_id,
                    kind: MessageKind::Reply,
                    author_user_id: Some(assignee.map_or(user_ids[3], |i| user_ids[i])),
                    author_customer_id: None,
                    body: text,
                    created_at: last,
                },
            )?;
        }
        directory::touch_conversation(
            conn,
            conversation_id,
            last,
            (status == Status::Done).then_some(last),
        )?;
        conversation_ids.push((conversation_id, team));
    }
    knowledge_base_and_tasks(conn, &user_ids, &conversation_ids, now)
}

/// Articles (published, a draft collaborators may improve, a Spanish
/// translation) and tasks (one for a collaborator, one overdue).
fn knowledge_base_and_tasks(
    conn: &mut DbConn,
    user_ids: &[i64],
    conversations: &[(i64, usize)],
    now: NaiveDateTime,
) -> diesel::QueryResult<()> {
    let owner = (user_ids[0], USERS[0].name);
    let category = kb::create_category(conn, "Getting started", "Your account and billing", now)?;
    let account = kb::create_section(conn, category, "Your account", now)?;
    let billing = kb::create_section(conn, category, "Billing", now)?;
    let mut article = |section, translation_of, language, title, body, published| {
        let id = kb::create(
            conn,
            &kb::NewArticle {
                section_id: section,
                translation_of,
                language,
                title,
                body,
                author_id: owner.0,
                author_name: owner.1,
            },
            now,
        )?;
        if published {
            kb::set_state(conn, id, true, owner, now)?;
        }
        Ok::<_, diesel::result::Error>(id)
    };
    let reset = article(
        account,
        None,
        "en",
        "Reset your password",
        "On the sign-in page choose **Forgot your password?** and enter your email.\n\nThe link we send is valid for one hour.",
        true,
    )?;
    article(
        account,
        Some(reset),
        "es",
        "Restablecer la contraseña",
        "En la página de acceso elige **¿Olvidaste tu contraseña?** e indica tu correo.\n\nEl enlace es válido durante una hora.",
        true,
    )?;
    article(
        billing,
        None,
        "en",
        "Download your invoices",
        "Invoices are under **Account > Billing**, one PDF per month.",
        true,
    )?;
    article(
        account,
        None,
        "en",
        "Two-factor sign-in",
        "Draft: which authenticator apps work, and what to do with the backup codes.",
        false,
    )?;
    // The collaborator of the Technical team, and an agent.
    let technical = conversations
        .iter()
        .find(|(_, team)| *team == 2)
        .map(|(id, _)| *id);
    task::create(
        conn,
        &task::TaskFields {
            title: "Confirm which toner batch is affected",
            description: "Check with the supplier and note the batch numbers here.",
            due_on: Some((now + Duration::days(2)).date()),
            assignee_id: user_ids[6],
        },
        user_ids[1],
        technical,
        None,
        now,
    )?;
    task::create(
        conn,
        &task::TaskFields {
            title: "Call back about the refund",
            description: "",
            due_on: Some((now - Duration::days(1)).date()),
            assignee_id: user_ids[3],
        },
        user_ids[0],
        conversations.first().map(|(id, _)| *id),
        None,
        now,
    )?;
    Ok(())
}
