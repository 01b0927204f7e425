//! A fresh database on the test PostgreSQL server (`cargo xtask test` starts it and sets
//! `CPIS_TEST_DATABASE_URL_POSTGRES`), so tests do not see each other's rows. Shared by the
//! crate's test targets (`tests.rs`, `scale.rs`).

use sqlx::AnyPool;
use sqlx::any::AnyPoolOptions;
use uuid::Uuid;

const POSTGRES_ENV: &str = "CPIS_TEST_DATABASE_URL_POSTGRES";

/// Create a new database named `{prefix}_{random}` and return its URL.
pub async fn fresh_database(prefix: &str) -> String {
    sqlx::any::install_default_drivers();
    let url = std::env::var(POSTGRES_ENV).unwrap_or_else(|_| {
        panic!("{POSTGRES_ENV} is not set: run the tests with `cargo xtask test`, which starts PostgreSQL")
    });
    let admin = AnyPoolOptions::new()
        .max_connections(1)
        .connect(&url)
        .await
        .expect("postgres");
    let name = format!("{prefix}_{}", Uuid::new_v4().simple());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&admin)
        .await
        .expect("create database");
    admin.close().await;
    let base = url.rsplit_once('/').map(|(base, _)| base).expect("url");
    format!("{base}/{name}")
}

/// A pool of four connections to `url`.
pub async fn pool(url: &str) -> AnyPool {
    AnyPoolOptions::new()
        .max_connections(4)
        .connect(url)
        .await
        .expect("postgres pool")
}
