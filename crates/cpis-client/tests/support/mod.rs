//! Shared test helpers: a misbehaving HTTP server, a TLS server with a certificate from a test
//! certificate authority, the development identity provider process, a controllable fake token
//! broker, the Secret Service, and
//! synthetic data.

pub mod dev_idp;
pub mod fake_broker;
pub mod fault_server;
pub mod secret_service;
pub mod sign_in_stack;
pub mod synthetic;
pub mod tls_server;
