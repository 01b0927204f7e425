-- CP-IS reference service schema, version 2: the API platform's side (the "CIS2 separate
-- authentication" pattern). Portable SQL, as version 1: instants are BIGINT microseconds since
-- the Unix epoch; ids are UUID text; tokens are stored only as the hex SHA-256 of the token.

-- The platform's copy of the national RBAC directory: one row per role a user holds.
-- activity_codes is a JSON array of strings.
CREATE TABLE role_directory (
    person_roleid TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    org_code TEXT NOT NULL,
    org_name TEXT NOT NULL,
    role_code TEXT NOT NULL,
    role_name TEXT NOT NULL,
    activity_codes TEXT NOT NULL
);
CREATE INDEX role_directory_by_user ON role_directory (user_id);

-- One grant per token exchange: who it is for and what it may do. Refresh tokens rotate within
-- the grant; the grant ends at refresh_expires_at (12 hours after the exchange) or revocation.
CREATE TABLE oauth_grants (
    id TEXT PRIMARY KEY,
    client_id TEXT NOT NULL,
    user_id TEXT NOT NULL,
    user_name TEXT NOT NULL,
    selected_roleid TEXT,
    authentication_assurance_level TEXT NOT NULL,
    scope TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    refresh_expires_at BIGINT NOT NULL,
    refresh_count BIGINT NOT NULL,
    revoked_at BIGINT
);

-- Access and refresh tokens, by hash. A refresh token is used once (used_at).
CREATE TABLE oauth_tokens (
    token_hash TEXT PRIMARY KEY,
    grant_id TEXT NOT NULL REFERENCES oauth_grants (id),
    kind TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);
CREATE INDEX oauth_tokens_by_grant ON oauth_tokens (grant_id);
CREATE INDEX oauth_tokens_by_expiry ON oauth_tokens (expires_at);

-- client_assertion jtis already used, kept until the assertion's exp.
CREATE TABLE oauth_used_jtis (
    client_id TEXT NOT NULL,
    jti TEXT NOT NULL,
    expires_at BIGINT NOT NULL,
    PRIMARY KEY (client_id, jti)
);
CREATE INDEX oauth_used_jtis_by_expiry ON oauth_used_jtis (expires_at);
