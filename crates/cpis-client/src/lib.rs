//! The CP-IS Viewer client, shared by the desktop app and the `cpis` command line:
//! configuration, sign-in through the trust's token broker, token storage in the OS keyring, and the alert client
//! that turns every lookup into one of the honest outcomes.
//!
//! Architecture invariants:
//! - tokens live only in memory and in the OS keyring ([`token_store`]); their `Debug` is
//!   redacted and they are never logged;
//! - only a valid searchset Bundle with `total: 0` for the NHS number asked about is
//!   [`LookupOutcome::NoPlan`]; everything else that is not a definite answer is
//!   [`LookupOutcome::CouldNotCheck`] with a reason;
//! - every lookup is handed to an [`AuditSink`] in exactly one place, [`AlertClient::lookup`].

pub mod alert;
pub mod audit;
pub mod audit_log;
pub mod audit_queue;
pub mod config;
pub mod http;
mod http_body;
pub mod identity;
pub mod idle_lock;
pub mod queue_key;
pub mod redact;
pub mod sequencing;
pub mod session_guard;
pub mod sign_in;
pub mod token_store;

pub use alert::{AlertClient, AlertClientError, LookupReport, ServiceReachability};
pub use audit::{AuditRecord, AuditSink, AuditSinkError};
pub use audit_log::{AuditLogClient, AuditLogError, AuditSearch, Completeness};
pub use audit_queue::QueueSink;
pub use config::{Config, ConfigError, ConfigLocations, Defaults};
pub use cpis_domain::LookupOutcome;
pub use identity::{LookupPermission, Organisation, Role, Session, SignedInUser, Tokens};
pub use queue_key::QueueKeyStore;
pub use redact::Secret;
pub use sequencing::{LookupSequencer, LookupTicket};
pub use session_guard::{Activity, SessionError, SessionLimits, checked_session, usable_session};
pub use sign_in::{Broker, CallbackParams, LoopbackRedirect, PendingSignIn, SignInError};
pub use token_store::{KeyringTokenStore, TokenStoreError};

/// The product name sent as the audit source and in the User-Agent.
pub const PRODUCT: &str = concat!("cpis-viewer/", env!("CARGO_PKG_VERSION"));
