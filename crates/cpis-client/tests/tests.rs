//! The integration tests of `cpis-client`, one binary with modules: the configuration's layers
//! (machine-wide beats the user's file, release builds without defaults, http only to this
//! computer, the trust's words), the extra CA bundle against a real TLS server, the alert
//! client against a misbehaving server, a property test that "no plan" only comes from a valid
//! empty Bundle, every answer the NHS published read as a clinician should see it, the keyring against the real Secret Service, sign-in against a controllable fake broker,
//! and sign-in as the platform requires against the real pieces: the token broker and the
//! reference platform in-process and the development identity provider (`dev-idp/`, started by
//! the tests).
//!
//! Run with a session bus and an unlocked keyring:
//! `dbus-run-session -- bash -c 'echo -n test | gnome-keyring-daemon --unlock --components=secrets >/dev/null; cargo test -p cpis-client'`

mod support;

mod alert_not_on_disk;
mod config_layers;
mod extra_ca;
mod faults;
mod keyring_store;
mod no_plan_property;
mod published;
mod queue_key;
mod sign_in;
mod sign_in_real;
