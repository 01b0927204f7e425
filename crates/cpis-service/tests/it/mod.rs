//! Test modules.

mod answers;
mod audit_log;
mod auth;
mod cli;
mod layers;
mod lookup;
mod ops;
mod reads;
mod seed;
mod socket;
mod support;
mod upload;
