//! The trust-side token broker (docs/sign-in.md section 3): the confidential CIS2 client
//! (`private_key_jwt`), the one-time hand-over to the app's loopback port, the API platform's
//! token exchange with the broker's RS512 key, refresh, revocation, and the server-side
//! session. No workstation holds a long-lived secret: the keys, the platform's client secret and
//! the refresh tokens stay here.
//!
//! # Layers
//!
//! Modules import only from layers below their own, never from a sibling of the same layer.
//!
//! 1. [`config`] (CLI and environment, [`config::BrokerConfig`]), [`secret`] (redacted secrets,
//!    random handles and codes, SHA-256, PKCE, sealing).
//! 2. [`http`] (the outgoing client), [`keys`] (the signing key, the client assertions, the
//!    JWKS), [`store`] (sqlx Any, migrations).
//! 3. [`cis2`] (discovery, authorization URL, code exchange, ID token validation, userinfo),
//!    [`platform`] (token exchange, refresh, revocation).
//! 4. [`state`] ([`state::BrokerState`]).
//! 5. [`api`] (the router and the endpoints).
//! 6. [`server`] ([`server::state_for`], [`server::serve_on`], [`server::serve`]), and `main.rs`.
//!
//! No token, code, handle or user name reaches a log line or an error answer.

pub mod api;
pub mod cis2;
pub mod config;
pub mod http;
pub mod keys;
pub mod platform;
pub mod secret;
pub mod server;
pub mod state;
pub mod store;
