-- cpis-broker schema, version 1. Portable SQL: the same file runs on SQLite and PostgreSQL.
-- Instants are BIGINT microseconds since the Unix epoch. Handles, codes and access tokens are
-- stored as SHA-256 hex only; the platform's refresh token is the one secret kept as is.

-- Sign-ins between /authorize and CIS2's /callback, keyed by the hash of the broker's state.
CREATE TABLE pending_sign_ins (
    state_hash TEXT PRIMARY KEY,
    app_redirect_uri TEXT NOT NULL,
    app_state TEXT NOT NULL,
    app_code_challenge TEXT NOT NULL,
    nonce TEXT NOT NULL,
    pkce_verifier TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL
);

-- Sessions. handle_hash is set when the app redeems its one-time code.
CREATE TABLE sessions (
    id TEXT PRIMARY KEY,
    handle_hash TEXT UNIQUE,
    sub TEXT NOT NULL,
    name TEXT NOT NULL,
    selected_roleid TEXT,
    roles_json TEXT NOT NULL,
    orgs_json TEXT NOT NULL,
    aal TEXT NOT NULL,
    access_token_hash TEXT NOT NULL,
    access_expires_at BIGINT NOT NULL,
    refresh_token TEXT,
    refresh_lease_until BIGINT,
    created_at BIGINT NOT NULL,
    expires_at BIGINT NOT NULL,
    ended_at BIGINT
);
CREATE INDEX sessions_access_token_hash ON sessions (access_token_hash);

-- One-time codes for the app's loopback redirect. The access token waits here, sealed under the
-- code (which only the app has), until the code is redeemed, then is cleared.
CREATE TABLE app_codes (
    code_hash TEXT PRIMARY KEY,
    session_id TEXT NOT NULL REFERENCES sessions (id),
    redirect_uri TEXT NOT NULL,
    code_challenge TEXT NOT NULL,
    access_token TEXT,
    expires_at BIGINT NOT NULL,
    used_at BIGINT
);

-- Every client assertion's jti, so none is ever sent twice.
CREATE TABLE assertion_jtis (
    jti TEXT PRIMARY KEY,
    expires_at BIGINT NOT NULL
);
