// The one list of command names, shared by Rust and TypeScript: `src-tauri` registers exactly
// these (a test compares its handler list), `src-tauri/build.rs` generates their permissions
// from it with `include!`, and `cargo xtask codegen` writes it into `ui/src/backend/bindings.ts`
// as `COMMANDS`, the only names `ui/src/backend` may call. Because it is `include!`d it holds
// only this constant and plain comments (an inner doc comment cannot be `include!`d).

/// Every command the desktop shell registers and the UI may call.
pub const COMMANDS: [&str; 13] = [
    "setup_problem",
    "session_state",
    "sign_in",
    "cancel_sign_in",
    "sign_out",
    "lock",
    "report_activity",
    "lookup",
    "record_la_contact",
    "status",
    "ui_settings",
    "review",
    "save_review_csv",
];
