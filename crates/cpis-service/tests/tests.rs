//! The one integration-test binary of cpis-service: every endpoint and error in-process
//! (`Router::oneshot`) and over a real socket, auth negatives, the visibility, de-duplication
//! and notification rules, uploads, seeding, the command line, on SQLite and PostgreSQL.
//!
//! PostgreSQL tests read `CPIS_TEST_DATABASE_URL_POSTGRES` (set by `cargo xtask test`) and fail
//! when it is unset.

mod it;
