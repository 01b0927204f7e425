//! The reference CP-IS service: the CP-IS FHIR API (CareTeam search, access history), the
//! demographics stand-in (PDS Patient read), the local authority side (uploads, Access to
//! Service Notifications), the API platform's token endpoint (`/oauth2/token`: CIS2 ID token
//! exchanged for an opaque access token, as NHS England's API platform does it), opaque-token
//! auth with scopes and the role directory on every API request, and storage on SQLite or
//! PostgreSQL.
//!
//! The central audit log (the `cpis-audit-log` crate) shares the database: its tables are
//! installed by [`store::Store::connect`], its routes under `/audit/FHIR/R4` are in
//! [`api::audit`], and `cpis-service audit export|verify` sit beside `serve` and `seed`.
//!
//! # Layers
//!
//! Modules import only from layers below their own (and never from a sibling of the same
//! layer); `tests/it/layers.rs` checks it.
//!
//! 1. [`config`] (CLI, env, file), [`uk_time`] (the UK date the rules use), [`metrics`]
//!    (Prometheus), [`store`] (sqlx Any, migrations, one module per table family, the role
//!    directory `store::roles` and the token store `store::oauth` among them), [`auth`] (the
//!    CIS2 ID token verifier, signing keys, the verified-ID-token cache, the platform app and
//!    its client assertions `auth::assertion`, scopes `auth::scopes`, opaque tokens
//!    `auth::opaque`, unverified JWT reading `auth::raw`): each stands alone.
//! 2. [`history`] (access history and notification rules, recording an access), [`seed`]
//!    (synthetic data, and the role directory from `dev-idp/users.json` in `seed::roles`):
//!    over `store`, `auth`, `metrics`.
//! 3. [`state`] (`AppState`, `Limits`), [`error`] (`ApiError`, the OperationOutcome answer).
//! 4. [`extract`] (the `Caller` extractor: opaque token, scope, role from the directory; role
//!    checks, headers, search parameters, bodies), [`reads`] (every read answered leaves a PARS
//!    record, committed before the answer: over `state`, `error`, `store::reads`).
//! 5. [`api`] (the router; one module per area: `cpis`, `pds`, `la`, `audit`, `oauth` (the
//!    token endpoint), `ops`, and the request log in `observe`). Area modules use the layers below, never `api` itself or each
//!    other.
//! 6. [`server`] (bind, graceful shutdown), and `main.rs`.
//!
//! Architecture invariant: no patient data (NHS number, name, date of birth) and no token ever
//! reaches a log line, a metric label or an error message.

pub mod api;
pub mod auth;
pub mod config;
pub mod error;
pub mod extract;
pub mod history;
pub mod metrics;
pub mod reads;
pub mod seed;
pub mod server;
pub mod state;
pub mod store;
pub mod uk_time;
