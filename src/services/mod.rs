//! The service layer, below every front door (browser, API, SCIM, CLI,
//! mail): what a write needs to know and check lives here once. Nothing here
//! takes a request or `AppState`. It holds so far the user form's checks,
//! shared by Settings > Users and the CSV import.

pub mod user_form;
