// Every command the app registers; the capability grants exactly these. Included by
// `build.rs` (which generates their permissions) and by the hardening test, so it holds
// only this constant and plain comments (an inner doc comment cannot be `include!`d).

/// The app's own commands.
pub const COMMANDS: [&str; 14] = [
    "setup_problem",
    "check_nhs_number",
    "app_info",
    "session_state",
    "sign_in",
    "cancel_sign_in",
    "sign_out",
    "lock",
    "lookup",
    "record_la_contact",
    "status",
    "ui_settings",
    "review",
    "save_review_csv",
];
