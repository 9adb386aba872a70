//! The service layer, below every front door (browser, API, SCIM, CLI,
//! mail): what a write needs to know and check lives here once. Nothing here
//! takes a request or `AppState`. It holds so far the team writes (the Teams
//! settings page and SCIM groups) and the user form's checks (Settings >
//! Users and the CSV import).

pub mod teams;
pub mod user_form;
