//! The `cpis` command line as a real process: usage and exit statuses, faults (service down,
//! slow past the deadline, misbehaving, a broker that does not know the token or cannot be
//! reached), the app's inactivity lock on the shared session, and end to end through the token
//! broker, the development identity provider and the reference platform (in-process, seeded):
//! `cpis login` then `cpis lookup` for every scenario in the seed manifest.
//!
//! Needs a D-Bus session with an unlocked keyring (see crates/cpis-client/tests/tests.rs) and
//! `npm ci` in dev-idp/.

mod support;

mod audit_status;
mod end_to_end;
mod idle_lock;
mod usage;
