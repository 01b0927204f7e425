//! Storage on SQLite (default) or PostgreSQL through sqlx's `Any` driver, with the versioned,
//! portable migrations in `migrations/`: pending sign-ins, one-time app codes, sessions and
//! the client assertions' `jti`s.
//!
//! Handles, codes and access tokens are kept as SHA-256 hex only. The platform's refresh token is
//! kept as is (it is the server-side secret the broker exists to hold) and cleared when the
//! session ends. Single use and single flight are row updates that only one request wins, so
//! they hold across replicas sharing a PostgreSQL database too.

use std::fmt;
use std::time::Duration;

use sqlx::any::AnyPoolOptions;
use sqlx::{AnyConnection, AnyPool, Executor, Row};
use time::OffsetDateTime;

use crate::secret::{Secret, seal};

/// The embedded, versioned migrations.
pub static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations");

/// Storage errors. Messages name what failed, never the data involved.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The URL is neither `sqlite:` nor `postgres:`.
    #[error("unsupported database URL: use sqlite://PATH or postgres://USER@HOST/DB")]
    UnsupportedUrl,
    /// The database failed.
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    /// A migration failed.
    #[error("database migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    /// A stored value could not be read back.
    #[error("stored value is not valid: {0}")]
    Corrupt(&'static str),
    /// The operating system's random generator failed while sealing the access token.
    #[error("could not seal the access token for the app")]
    Seal,
}

/// Microseconds since the Unix epoch.
pub fn to_micros(moment: OffsetDateTime) -> i64 {
    i64::try_from(moment.unix_timestamp_nanos() / 1000).unwrap_or(i64::MAX)
}

/// `moment` plus `duration`, in microseconds.
pub fn micros_after(moment: OffsetDateTime, duration: Duration) -> i64 {
    to_micros(moment).saturating_add(i64::try_from(duration.as_micros()).unwrap_or(i64::MAX))
}

/// The storage handle. Cheap to clone.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
}

/// A sign-in waiting for CIS2's callback.
#[derive(Clone)]
pub struct PendingSignIn {
    /// The app's loopback redirect URI.
    pub app_redirect_uri: String,
    /// The app's `state`, sent back to it.
    pub app_state: String,
    /// The app's PKCE S256 challenge.
    pub app_code_challenge: String,
    /// The nonce sent to CIS2.
    pub nonce: Secret,
    /// The PKCE verifier for CIS2.
    pub pkce_verifier: Secret,
    /// When it stops being valid (microseconds).
    pub expires_at: i64,
}

impl fmt::Debug for PendingSignIn {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("PendingSignIn")
            .field("app_redirect_uri", &self.app_redirect_uri)
            .finish_non_exhaustive()
    }
}

/// A signed-in user as the session holds them.
#[derive(Clone, PartialEq, Eq)]
pub struct SessionUser {
    /// CIS2 `sub`.
    pub sub: String,
    /// The user's name (staff data).
    pub name: String,
    /// The role selected at sign-in.
    pub selected_roleid: Option<String>,
    /// `nhsid_nrbac_roles` from userinfo.
    pub roles: serde_json::Value,
    /// `nhsid_user_orgs` from userinfo.
    pub orgs: serde_json::Value,
    /// `authentication_assurance_level`.
    pub aal: String,
}

impl fmt::Debug for SessionUser {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SessionUser")
            .field("aal", &self.aal)
            .finish_non_exhaustive()
    }
}

/// A stored session.
#[derive(Clone)]
pub struct SessionRow {
    /// Its id (a UUID; its first 8 characters name it in logs).
    pub id: String,
    /// The user.
    pub user: SessionUser,
    /// The platform's refresh token; `None` once ended.
    pub refresh_token: Option<Secret>,
    /// When the current access token expires (microseconds).
    pub access_expires_at: i64,
    /// When the session stops (microseconds).
    pub expires_at: i64,
    /// When it was ended, if it was.
    pub ended_at: Option<i64>,
}

impl fmt::Debug for SessionRow {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("SessionRow")
            .field("id", &short_id(&self.id))
            .field("expires_at", &self.expires_at)
            .field("ended_at", &self.ended_at)
            .finish_non_exhaustive()
    }
}

impl SessionRow {
    /// Live at `now`: not ended and not past its age.
    pub fn is_live(&self, now: i64) -> bool {
        self.ended_at.is_none() && self.expires_at > now
    }
}

/// What a new session starts with.
#[derive(Clone)]
pub struct NewSession {
    /// The user.
    pub user: SessionUser,
    /// The platform's access token.
    pub access_token: Secret,
    /// Its expiry (microseconds).
    pub access_expires_at: i64,
    /// The platform's refresh token.
    pub refresh_token: Option<Secret>,
    /// The session's end (microseconds).
    pub expires_at: i64,
}

impl fmt::Debug for NewSession {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("NewSession")
            .field("expires_at", &self.expires_at)
            .finish_non_exhaustive()
    }
}

/// A redeemed one-time code.
#[derive(Clone)]
pub struct RedeemedCode {
    /// Its session.
    pub session_id: String,
    /// The redirect URI it was issued to.
    pub redirect_uri: String,
    /// The app's PKCE challenge.
    pub code_challenge: String,
    /// The access token it hands over, sealed under the code.
    pub sealed_access_token: Option<String>,
    /// Its expiry (microseconds).
    pub expires_at: i64,
}

impl fmt::Debug for RedeemedCode {
    fn fmt(&self, formatter: &mut fmt::Formatter<'_>) -> fmt::Result {
        formatter
            .debug_struct("RedeemedCode")
            .field("session", &short_id(&self.session_id))
            .finish_non_exhaustive()
    }
}

/// What presenting a one-time code came to.
#[derive(Debug)]
pub enum Redemption {
    /// No such code.
    Unknown,
    /// The code was used before (or by a request that won the race).
    Spent {
        /// Its session, which should end.
        session_id: String,
    },
    /// This request used it.
    Redeemed(RedeemedCode),
}

/// The first 8 characters of a session id: how logs name a session.
pub fn short_id(id: &str) -> &str {
    id.get(..8).unwrap_or(id)
}

async fn sqlite_pragmas(connection: &mut AnyConnection) -> Result<(), sqlx::Error> {
    for pragma in [
        "PRAGMA journal_mode = WAL",
        "PRAGMA synchronous = FULL",
        "PRAGMA foreign_keys = ON",
        "PRAGMA busy_timeout = 10000",
    ] {
        connection.execute(pragma).await?;
    }
    Ok(())
}

const SESSION_COLUMNS: &str = "id, sub, name, selected_roleid, roles_json, orgs_json, aal, \
     refresh_token, access_expires_at, expires_at, ended_at";

fn session_from(row: &sqlx::any::AnyRow) -> Result<SessionRow, StoreError> {
    let roles: String = row.try_get("roles_json")?;
    let orgs: String = row.try_get("orgs_json")?;
    Ok(SessionRow {
        id: row.try_get("id")?,
        user: SessionUser {
            sub: row.try_get("sub")?,
            name: row.try_get("name")?,
            selected_roleid: row.try_get("selected_roleid")?,
            roles: serde_json::from_str(&roles).map_err(|_| StoreError::Corrupt("roles"))?,
            orgs: serde_json::from_str(&orgs).map_err(|_| StoreError::Corrupt("organisations"))?,
            aal: row.try_get("aal")?,
        },
        refresh_token: row
            .try_get::<Option<String>, _>("refresh_token")?
            .map(Secret::new),
        access_expires_at: row.try_get("access_expires_at")?,
        expires_at: row.try_get("expires_at")?,
        ended_at: row.try_get("ended_at")?,
    })
}

impl Store {
    /// Connect to `url` (`sqlite://PATH`, created if missing, or `postgres://...`) and run the
    /// migrations.
    pub async fn connect(url: &str, max_connections: u32) -> Result<Store, StoreError> {
        sqlx::any::install_default_drivers();
        let sqlite = url.starts_with("sqlite:");
        let url = if sqlite {
            if url.contains('?') {
                url.to_owned()
            } else {
                format!("{url}?mode=rwc")
            }
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            url.to_owned()
        } else {
            return Err(StoreError::UnsupportedUrl);
        };
        let mut options = AnyPoolOptions::new()
            .max_connections(max_connections.max(1))
            .acquire_timeout(Duration::from_secs(10));
        if sqlite {
            options = options.after_connect(|connection, _| {
                Box::pin(async move { sqlite_pragmas(connection).await })
            });
        }
        let pool = options.connect(&url).await?;
        MIGRATOR.run(&pool).await?;
        Ok(Store { pool })
    }

    /// Whether the database answers.
    pub async fn ping(&self) -> Result<(), StoreError> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    /// Remember a sign-in under the hash of the broker's `state`.
    pub async fn insert_pending(
        &self,
        state_hash: &str,
        pending: &PendingSignIn,
        now: OffsetDateTime,
    ) -> Result<(), StoreError> {
        sqlx::query(
            "INSERT INTO pending_sign_ins (state_hash, app_redirect_uri, app_state, \
             app_code_challenge, nonce, pkce_verifier, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
        )
        .bind(state_hash)
        .bind(&pending.app_redirect_uri)
        .bind(&pending.app_state)
        .bind(&pending.app_code_challenge)
        .bind(pending.nonce.expose())
        .bind(pending.pkce_verifier.expose())
        .bind(to_micros(now))
        .bind(pending.expires_at)
        .execute(&self.pool)
        .await?;
        Ok(())
    }

    /// Take (and delete) the sign-in for `state_hash`: a state is used once. Expired ones are
    /// returned too, for the caller to refuse with the app's redirect.
    pub async fn take_pending(
        &self,
        state_hash: &str,
    ) -> Result<Option<PendingSignIn>, StoreError> {
        let row = sqlx::query(
            "DELETE FROM pending_sign_ins WHERE state_hash = $1 \
             RETURNING app_redirect_uri, app_state, app_code_challenge, nonce, pkce_verifier, \
             expires_at",
        )
        .bind(state_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(Some(PendingSignIn {
            app_redirect_uri: row.try_get("app_redirect_uri")?,
            app_state: row.try_get("app_state")?,
            app_code_challenge: row.try_get("app_code_challenge")?,
            nonce: Secret::new(row.try_get::<String, _>("nonce")?),
            pkce_verifier: Secret::new(row.try_get::<String, _>("pkce_verifier")?),
            expires_at: row.try_get("expires_at")?,
        }))
    }

    /// Store a new session and the one-time code that hands it to the app, in one transaction:
    /// the code as its hash, the access token sealed under the code. Returns the session id.
    pub async fn create_session(
        &self,
        session: &NewSession,
        code: &Secret,
        redirect_uri: &str,
        code_challenge: &str,
        code_expires_at: i64,
        now: OffsetDateTime,
    ) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let roles =
            serde_json::to_string(&session.user.roles).map_err(|_| StoreError::Corrupt("roles"))?;
        let orgs = serde_json::to_string(&session.user.orgs)
            .map_err(|_| StoreError::Corrupt("organisations"))?;
        let mut transaction = self.pool.begin().await?;
        sqlx::query(
            "INSERT INTO sessions (id, sub, name, selected_roleid, roles_json, orgs_json, aal, \
             access_token_hash, access_expires_at, refresh_token, created_at, expires_at) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
        )
        .bind(&id)
        .bind(&session.user.sub)
        .bind(&session.user.name)
        .bind(session.user.selected_roleid.clone())
        .bind(roles)
        .bind(orgs)
        .bind(&session.user.aal)
        .bind(session.access_token.hash())
        .bind(session.access_expires_at)
        .bind(
            session
                .refresh_token
                .as_ref()
                .map(|t| t.expose().to_owned()),
        )
        .bind(to_micros(now))
        .bind(session.expires_at)
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "INSERT INTO app_codes (code_hash, session_id, redirect_uri, code_challenge, \
             access_token, expires_at) VALUES ($1, $2, $3, $4, $5, $6)",
        )
        .bind(code.hash())
        .bind(&id)
        .bind(redirect_uri)
        .bind(code_challenge)
        .bind(seal(code, session.access_token.expose()).ok_or(StoreError::Seal)?)
        .bind(code_expires_at)
        .execute(&mut *transaction)
        .await?;
        transaction.commit().await?;
        Ok(id)
    }

    /// Use the code `code_hash`: once only, also when raced (the update only one request wins),
    /// clearing the access token it held. A code presented again is [`Redemption::Spent`], with
    /// its session (for the caller to end: RFC 6749 section 4.1.2). Expiry and the PKCE check
    /// are the caller's.
    pub async fn redeem_code(
        &self,
        code_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Redemption, StoreError> {
        let row = sqlx::query(
            "SELECT session_id, redirect_uri, code_challenge, access_token, expires_at, used_at \
             FROM app_codes WHERE code_hash = $1",
        )
        .bind(code_hash)
        .fetch_optional(&self.pool)
        .await?;
        let Some(row) = row else {
            return Ok(Redemption::Unknown);
        };
        let session_id: String = row.try_get("session_id")?;
        if row.try_get::<Option<i64>, _>("used_at")?.is_some() {
            return Ok(Redemption::Spent { session_id });
        }
        let won = sqlx::query(
            "UPDATE app_codes SET used_at = $2, access_token = NULL \
             WHERE code_hash = $1 AND used_at IS NULL",
        )
        .bind(code_hash)
        .bind(to_micros(now))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        if !won {
            return Ok(Redemption::Spent { session_id });
        }
        Ok(Redemption::Redeemed(RedeemedCode {
            session_id,
            redirect_uri: row.try_get("redirect_uri")?,
            code_challenge: row.try_get("code_challenge")?,
            sealed_access_token: row.try_get("access_token")?,
            expires_at: row.try_get("expires_at")?,
        }))
    }

    /// Give the session its handle (hash) when the app redeems the code.
    pub async fn set_handle(&self, session_id: &str, handle_hash: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET handle_hash = $2 WHERE id = $1")
            .bind(session_id)
            .bind(handle_hash)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// The session by id.
    pub async fn session(&self, id: &str) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE id = $1"
        )))
        .bind(id)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from).transpose()
    }

    /// The session whose handle hashes to `handle_hash`.
    pub async fn session_by_handle(
        &self,
        handle_hash: &str,
    ) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE handle_hash = $1"
        )))
        .bind(handle_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from).transpose()
    }

    /// The session whose current access token hashes to `token_hash`.
    pub async fn session_by_access_token(
        &self,
        token_hash: &str,
    ) -> Result<Option<SessionRow>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {SESSION_COLUMNS} FROM sessions WHERE access_token_hash = $1 \
             AND handle_hash IS NOT NULL"
        )))
        .bind(token_hash)
        .fetch_optional(&self.pool)
        .await?;
        row.as_ref().map(session_from).transpose()
    }

    /// Take the session's refresh lease until `until` (microseconds): only one request holds it
    /// at a time, across replicas. `false` when another holds it or the session is ended.
    pub async fn take_refresh_lease(
        &self,
        id: &str,
        now: OffsetDateTime,
        until: i64,
    ) -> Result<bool, StoreError> {
        let won = sqlx::query(
            "UPDATE sessions SET refresh_lease_until = $3 WHERE id = $1 AND ended_at IS NULL \
             AND (refresh_lease_until IS NULL OR refresh_lease_until < $2)",
        )
        .bind(id)
        .bind(to_micros(now))
        .bind(until)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(won)
    }

    /// Give the lease back without a change.
    pub async fn release_refresh_lease(&self, id: &str) -> Result<(), StoreError> {
        sqlx::query("UPDATE sessions SET refresh_lease_until = NULL WHERE id = $1")
            .bind(id)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Store refreshed tokens and give the lease back. A session ended meanwhile stays ended
    /// (`false`).
    pub async fn store_refreshed(
        &self,
        id: &str,
        access_token: &Secret,
        access_expires_at: i64,
        refresh_token: &Secret,
        expires_at: i64,
    ) -> Result<bool, StoreError> {
        let stored = sqlx::query(
            "UPDATE sessions SET access_token_hash = $2, access_expires_at = $3, \
             refresh_token = $4, expires_at = $5, refresh_lease_until = NULL \
             WHERE id = $1 AND ended_at IS NULL",
        )
        .bind(id)
        .bind(access_token.hash())
        .bind(access_expires_at)
        .bind(refresh_token.expose())
        .bind(expires_at)
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(stored)
    }

    /// End the session: its refresh token is cleared and returned (for revocation) when it was
    /// live; `None` when it was already ended.
    pub async fn end_session(
        &self,
        id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<Option<Secret>>, StoreError> {
        let row =
            sqlx::query("SELECT refresh_token FROM sessions WHERE id = $1 AND ended_at IS NULL")
                .bind(id)
                .fetch_optional(&self.pool)
                .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        let refresh_token = row
            .try_get::<Option<String>, _>("refresh_token")?
            .map(Secret::new);
        let ended = sqlx::query(
            "UPDATE sessions SET ended_at = $2, refresh_token = NULL, refresh_lease_until = NULL \
             WHERE id = $1 AND ended_at IS NULL",
        )
        .bind(id)
        .bind(to_micros(now))
        .execute(&self.pool)
        .await?
        .rows_affected()
            == 1;
        Ok(ended.then_some(refresh_token))
    }

    /// Live sessions whose code was never redeemed and that began before `before`: nobody can
    /// have them any more (the code has expired), so they should end.
    pub async fn unclaimed_sessions(&self, before: i64) -> Result<Vec<String>, StoreError> {
        let rows = sqlx::query(
            "SELECT id FROM sessions WHERE handle_hash IS NULL AND ended_at IS NULL \
             AND created_at < $1",
        )
        .bind(before)
        .fetch_all(&self.pool)
        .await?;
        rows.iter()
            .map(|row| row.try_get::<String, _>("id").map_err(StoreError::from))
            .collect()
    }

    /// Record an assertion's `jti`; an error if it was ever recorded before.
    pub async fn record_jti(&self, jti: &str, expires_at: i64) -> Result<(), StoreError> {
        sqlx::query("INSERT INTO assertion_jtis (jti, expires_at) VALUES ($1, $2)")
            .bind(jti)
            .bind(expires_at)
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    /// Delete what has expired: pending sign-ins, codes, old `jti`s (kept a day past expiry)
    /// and the secrets of sessions past their age.
    pub async fn prune(&self, now: OffsetDateTime) -> Result<(), StoreError> {
        let now = to_micros(now);
        let day = 24 * 60 * 60 * 1_000_000_i64;
        sqlx::query("DELETE FROM pending_sign_ins WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query("UPDATE app_codes SET access_token = NULL WHERE expires_at < $1")
            .bind(now)
            .execute(&self.pool)
            .await?;
        sqlx::query("DELETE FROM assertion_jtis WHERE expires_at < $1")
            .bind(now.saturating_sub(day))
            .execute(&self.pool)
            .await?;
        sqlx::query(
            "UPDATE sessions SET refresh_token = NULL WHERE expires_at < $1 \
             AND refresh_token IS NOT NULL",
        )
        .bind(now)
        .execute(&self.pool)
        .await?;
        Ok(())
    }
}
