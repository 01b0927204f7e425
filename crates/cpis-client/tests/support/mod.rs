//! Shared test helpers: a misbehaving HTTP server, the development identity provider process,
//! the Secret Service, and synthetic data.

pub mod dev_idp;
pub mod fault_server;
pub mod secret_service;
pub mod synthetic;
