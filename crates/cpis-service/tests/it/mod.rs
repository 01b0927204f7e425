//! Test modules.

mod answers;
mod auth;
mod cli;
mod layers;
mod lookup;
mod ops;
mod seed;
mod socket;
mod support;
mod upload;
