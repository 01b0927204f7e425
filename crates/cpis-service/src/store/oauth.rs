//! The API platform's token store (`oauth_grants`, `oauth_tokens`, `oauth_used_jtis`): grants
//! made by the token exchange, their opaque access and refresh tokens (kept only as the hex
//! SHA-256 of the token), refresh-token rotation, revocation, and the client assertions' used
//! `jti`s (kept until the assertion's `exp`).

use sqlx::Row;
use time::OffsetDateTime;

use crate::store::connection::Store;
use crate::store::values::{StoreError, from_micros, to_micros};

const ACCESS: &str = "access";
const REFRESH: &str = "refresh";

/// A grant to store: who the exchanged ID token was for, and what was granted.
#[derive(Clone, PartialEq, Eq)]
pub struct NewGrant {
    /// The platform app (API key) the grant was made to.
    pub client_id: String,
    /// The user (`sub`).
    pub user_id: String,
    /// The user's name (`name`).
    pub user_name: String,
    /// The ID token's `selected_roleid`, if any.
    pub selected_roleid: Option<String>,
    /// The ID token's `authentication_assurance_level`.
    pub assurance_level: String,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// When the exchange happened.
    pub created_at: OffsetDateTime,
    /// When the grant (and every refresh token in it) ends.
    pub refresh_expires_at: OffsetDateTime,
}

impl std::fmt::Debug for NewGrant {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("NewGrant")
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// A pair of tokens to store, by hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TokenPair {
    /// The access token's hash (hex SHA-256).
    pub access_hash: String,
    /// When the access token ends.
    pub access_expires_at: OffsetDateTime,
    /// The refresh token's hash (hex SHA-256).
    pub refresh_hash: String,
    /// When the refresh token ends (never after the grant).
    pub refresh_expires_at: OffsetDateTime,
}

/// A live grant, found by one of its tokens.
#[derive(Clone, PartialEq, Eq)]
pub struct StoredGrant {
    /// The grant's id.
    pub id: String,
    /// The platform app it was made to.
    pub client_id: String,
    /// The user (`sub`).
    pub user_id: String,
    /// The user's name.
    pub user_name: String,
    /// The ID token's `selected_roleid`.
    pub selected_roleid: Option<String>,
    /// The granted scopes, space-separated.
    pub scope: String,
    /// Refreshes so far.
    pub refresh_count: i64,
    /// When the grant ends.
    pub refresh_expires_at: OffsetDateTime,
}

impl std::fmt::Debug for StoredGrant {
    fn fmt(&self, formatter: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        formatter
            .debug_struct("StoredGrant")
            .field("id", &self.id)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// What a refresh came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RefreshOutcome {
    /// Rotated: the old refresh token is used up, the new pair is stored.
    Rotated(StoredGrant),
    /// Unknown, already used, revoked, or of another client.
    Invalid,
    /// The refresh token (or its grant) has expired.
    Expired,
}

const GRANT_COLUMNS: &str = "g.id, g.client_id, g.user_id, g.user_name, g.selected_roleid, \
                             g.scope, g.refresh_count, g.refresh_expires_at";

fn grant_from_row(row: &sqlx::any::AnyRow) -> Result<StoredGrant, StoreError> {
    Ok(StoredGrant {
        id: row.try_get(0)?,
        client_id: row.try_get(1)?,
        user_id: row.try_get(2)?,
        user_name: row.try_get(3)?,
        selected_roleid: row.try_get(4)?,
        scope: row.try_get(5)?,
        refresh_count: row.try_get(6)?,
        refresh_expires_at: from_micros(row.try_get(7)?)?,
    })
}

async fn insert_pair(
    connection: &mut sqlx::AnyConnection,
    grant_id: &str,
    tokens: &TokenPair,
) -> Result<(), StoreError> {
    for (hash, kind, expires_at) in [
        (&tokens.access_hash, ACCESS, tokens.access_expires_at),
        (&tokens.refresh_hash, REFRESH, tokens.refresh_expires_at),
    ] {
        sqlx::query(
            "INSERT INTO oauth_tokens (token_hash, grant_id, kind, expires_at, used_at) \
             VALUES ($1, $2, $3, $4, NULL)",
        )
        .bind(hash)
        .bind(grant_id)
        .bind(kind)
        .bind(to_micros(expires_at))
        .execute(&mut *connection)
        .await?;
    }
    Ok(())
}

impl Store {
    /// Record a client assertion's `jti` until `expires_at`. `false` when it was used already.
    /// Expired entries are dropped on the way.
    pub async fn use_jti(
        &self,
        client_id: &str,
        jti: &str,
        expires_at: OffsetDateTime,
        now: OffsetDateTime,
    ) -> Result<bool, StoreError> {
        let _writer = self.writer().await;
        sqlx::query("DELETE FROM oauth_used_jtis WHERE expires_at < $1")
            .bind(to_micros(now))
            .execute(&self.pool)
            .await?;
        let inserted = sqlx::query(
            "INSERT INTO oauth_used_jtis (client_id, jti, expires_at) VALUES ($1, $2, $3) \
             ON CONFLICT (client_id, jti) DO NOTHING",
        )
        .bind(client_id)
        .bind(jti)
        .bind(to_micros(expires_at))
        .execute(&self.pool)
        .await?;
        Ok(inserted.rows_affected() == 1)
    }

    /// Store a new grant and its first token pair; the grant's id.
    pub async fn create_grant(
        &self,
        grant: &NewGrant,
        tokens: &TokenPair,
    ) -> Result<String, StoreError> {
        let id = uuid::Uuid::new_v4().to_string();
        let _writer = self.writer().await;
        let mut transaction = self.pool.begin().await?;
        // Expired tokens go first (and take SQLite's write lock at once), then the grants past
        // their end (whose tokens, never outliving them, have just gone).
        sqlx::query("DELETE FROM oauth_tokens WHERE expires_at < $1")
            .bind(to_micros(grant.created_at))
            .execute(&mut *transaction)
            .await?;
        sqlx::query(
            "DELETE FROM oauth_grants WHERE refresh_expires_at < $1 \
             AND id NOT IN (SELECT grant_id FROM oauth_tokens)",
        )
        .bind(to_micros(grant.created_at))
        .execute(&mut *transaction)
        .await?;
        sqlx::query(
            "INSERT INTO oauth_grants (id, client_id, user_id, user_name, selected_roleid, \
             authentication_assurance_level, scope, created_at, refresh_expires_at, \
             refresh_count, revoked_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, 0, NULL)",
        )
        .bind(&id)
        .bind(&grant.client_id)
        .bind(&grant.user_id)
        .bind(&grant.user_name)
        .bind(grant.selected_roleid.clone())
        .bind(&grant.assurance_level)
        .bind(&grant.scope)
        .bind(to_micros(grant.created_at))
        .bind(to_micros(grant.refresh_expires_at))
        .execute(&mut *transaction)
        .await?;
        insert_pair(&mut transaction, &id, tokens).await?;
        transaction.commit().await?;
        Ok(id)
    }

    /// Use a refresh token once: when it is live and of `client_id`'s grant, mark it used and
    /// store `make_pair(grant)`'s tokens in the same grant.
    pub async fn rotate_refresh(
        &self,
        refresh_hash: &str,
        client_id: &str,
        now: OffsetDateTime,
        make_pair: impl FnOnce(&StoredGrant) -> TokenPair,
    ) -> Result<RefreshOutcome, StoreError> {
        let _writer = self.writer().await;
        let mut transaction = self.pool.begin().await?;
        // Claim the token first: of two concurrent refreshes with it, one wins.
        let claimed = sqlx::query(
            "UPDATE oauth_tokens SET used_at = $2 \
             WHERE token_hash = $1 AND kind = 'refresh' AND used_at IS NULL",
        )
        .bind(refresh_hash)
        .bind(to_micros(now))
        .execute(&mut *transaction)
        .await?;
        if claimed.rows_affected() != 1 {
            return Ok(RefreshOutcome::Invalid);
        }
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS}, t.expires_at, g.revoked_at FROM oauth_tokens t \
             JOIN oauth_grants g ON g.id = t.grant_id WHERE t.token_hash = $1"
        )))
        .bind(refresh_hash)
        .fetch_one(&mut *transaction)
        .await?;
        let mut grant = grant_from_row(&row)?;
        let token_expires_at = from_micros(row.try_get(8)?)?;
        let revoked: Option<i64> = row.try_get(9)?;
        if revoked.is_some() || grant.client_id != client_id {
            // Leave the token unused: roll back.
            return Ok(RefreshOutcome::Invalid);
        }
        if token_expires_at <= now || grant.refresh_expires_at <= now {
            transaction.commit().await?;
            return Ok(RefreshOutcome::Expired);
        }
        sqlx::query("UPDATE oauth_grants SET refresh_count = refresh_count + 1 WHERE id = $1")
            .bind(&grant.id)
            .execute(&mut *transaction)
            .await?;
        grant.refresh_count += 1;
        let pair = make_pair(&grant);
        insert_pair(&mut transaction, &grant.id, &pair).await?;
        transaction.commit().await?;
        Ok(RefreshOutcome::Rotated(grant))
    }

    /// The live grant of an unexpired, unrevoked access token, and when the token expires.
    pub async fn access_grant(
        &self,
        access_hash: &str,
        now: OffsetDateTime,
    ) -> Result<Option<(StoredGrant, OffsetDateTime)>, StoreError> {
        let row = sqlx::query(sqlx::AssertSqlSafe(format!(
            "SELECT {GRANT_COLUMNS}, t.expires_at FROM oauth_tokens t \
             JOIN oauth_grants g ON g.id = t.grant_id \
             WHERE t.token_hash = $1 AND t.kind = 'access' AND t.expires_at > $2 \
             AND g.revoked_at IS NULL"
        )))
        .bind(access_hash)
        .bind(to_micros(now))
        .fetch_optional(&self.pool)
        .await?;
        match row {
            None => Ok(None),
            Some(row) => Ok(Some((grant_from_row(&row)?, from_micros(row.try_get(8)?)?))),
        }
    }

    /// End the grant that holds this (access or refresh) token, when it is `client_id`'s: the
    /// grant's id when one was ended.
    pub async fn revoke_grant_of(
        &self,
        token_hash: &str,
        client_id: &str,
        now: OffsetDateTime,
    ) -> Result<Option<String>, StoreError> {
        let _writer = self.writer().await;
        let mut transaction = self.pool.begin().await?;
        let Some(row) = sqlx::query("SELECT grant_id FROM oauth_tokens WHERE token_hash = $1")
            .bind(token_hash)
            .fetch_optional(&mut *transaction)
            .await?
        else {
            return Ok(None);
        };
        let grant_id: String = row.try_get(0)?;
        let revoked = sqlx::query(
            "UPDATE oauth_grants SET revoked_at = $3 \
             WHERE id = $1 AND client_id = $2 AND revoked_at IS NULL",
        )
        .bind(&grant_id)
        .bind(client_id)
        .bind(to_micros(now))
        .execute(&mut *transaction)
        .await?;
        if revoked.rows_affected() == 0 {
            return Ok(None);
        }
        sqlx::query("DELETE FROM oauth_tokens WHERE grant_id = $1")
            .bind(&grant_id)
            .execute(&mut *transaction)
            .await?;
        transaction.commit().await?;
        Ok(Some(grant_id))
    }
}
