//! The reference CP-IS service: the CP-IS FHIR API (CareTeam search, access history), the
//! demographics stand-in (PDS Patient read), the local authority side (uploads, Access to
//! Service Notifications), bearer-token auth on every API request, and storage on SQLite or
//! PostgreSQL.
//!
//! Module map: [`config`] (CLI, env, file), [`server`] (bind, graceful shutdown), [`api`]
//! (routes, handlers, errors), [`auth`] (JWT, JWKS, roles, token cache), [`history`] (access
//! history and notification rules), [`store`] (sqlx Any, migrations), [`seed`] (synthetic data),
//! [`metrics`] (Prometheus and the request log), [`csv_upload`], [`uk_time`] (the UK date the
//! rules use).
//!
//! The central audit log (the `cpis-audit-log` crate) shares the database: its tables are
//! installed by [`store::Store::connect`], its routes under `/audit/FHIR/R4` are in
//! [`central_audit`], and `cpis-service audit export|verify` sit beside `serve` and `seed`.
//!
//! Architecture invariant: no patient data (NHS number, name, date of birth) and no token ever
//! reaches a log line, a metric label or an error message.

pub mod api;
pub mod auth;
pub mod central_audit;
pub mod config;
pub mod csv_upload;
pub mod history;
pub mod metrics;
pub mod seed;
pub mod server;
pub mod store;
pub mod uk_time;
