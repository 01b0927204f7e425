#!/usr/bin/env bash
# Property-based API testing of cpis-service against its own OpenAPI document with schemathesis
# (PyPI, pinned below): seeds a small SQLite database (and its role directory), starts the service
# with a JWKS made from the TEST-ONLY key as CIS2's keys and the broker's DEV-ONLY JWKS as the
# platform app's, mints CIS2-style ID tokens for dev-idp's B0107 clinician (ed-nurse), B1235
# local authority user (la-user) and B1234 safeguarding lead (named-nurse), exchanges each at
# /oauth2/token with an RS512 client assertion for the service's opaque access token, and runs every schemathesis check except positive_data_acceptance (JSON
# Schema cannot say "passes Modulus 11", so a schema-valid NHS number may rightly get 400
# INVALID_SEARCH_DATA). Each role's pass covers the operations that role may call, so every
# operation is exercised with a token it accepts (a token it refuses would only ever get 403);
# the public operations run in the clinician's pass.
#
# Usage: crates/cpis-service/scripts/schemathesis.sh [path/to/cpis-service]
# Needs python3 (with venv) and openssl. Exits non-zero on any failure.
set -euo pipefail

SCHEMATHESIS_VERSION=4.32.5
ROOT="$(cd "$(dirname "$0")/../../.." && pwd)"
BINARY="${1:-$ROOT/target/debug/cpis-service}"
KEY="$ROOT/crates/cpis-service/tests/keys/TEST-ONLY-rsa-signing-key.pem"
BROKER_KEY="$ROOT/crates/cpis-broker/dev-keys/DEV-ONLY-broker-signing-key.pem"
APP_JWKS="$ROOT/crates/cpis-broker/dev-keys/DEV-ONLY-broker.jwks.public.json"
WORK="$(mktemp -d)"
VENV="${CPIS_SCHEMATHESIS_VENV:-${TMPDIR:-/tmp}/cpis-schemathesis-venv}"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

if [ ! -x "$VENV/bin/schemathesis" ] || ! "$VENV/bin/schemathesis" --version | grep -q "$SCHEMATHESIS_VERSION"; then
    python3 -m venv "$VENV"
    "$VENV/bin/pip" install -q "schemathesis==$SCHEMATHESIS_VERSION"
fi

"$BINARY" seed --database "sqlite://$WORK/st.db" --children 2000 --seed 7 --manifest "$WORK/manifest.json" 2>/dev/null

python3 "$ROOT/crates/cpis-service/scripts/test_tokens.py" jwks "$KEY" "$WORK/jwks.json"

"$BINARY" serve --database "sqlite://$WORK/st.db" --listen 127.0.0.1:0 \
    --issuer https://idp.test.invalid --jwks-file "$WORK/jwks.json" --app-jwks-file "$APP_JWKS" \
    > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
BASE="$(sed -n 's/^cpis-service listening on //p' "$WORK/serve.out")"
[ -n "$BASE" ] || { echo "cpis-service did not start" >&2; cat "$WORK/serve.err" >&2; exit 1; }

# Access tokens for dev-idp's clinician, local authority user and safeguarding lead.
python3 "$ROOT/crates/cpis-service/scripts/test_tokens.py" tokens "$KEY" "$BROKER_KEY" "$WORK" "$BASE"

# Which operations each role's pass covers (method and path regular expressions).
declare -A PATHS=(
    [clinician]='^/(cpis|personal-demographics)/|^/audit/FHIR/R4(/metadata|/AuditEvent)?$|^/(healthz|readyz|metrics|openapi\.json)$'
    [la]='^/la/'
    [lead]='^/audit/FHIR/R4/AuditEvent$'
)
# Operations on those paths that are another role's: the clinician sends audit events
# (POST /audit/FHIR/R4/AuditEvent), the safeguarding lead reads the review (GET).
declare -A EXCLUDE=(
    [clinician]='^GET /audit/FHIR/R4/AuditEvent$'
    [la]=''
    [lead]='^POST '
)
status=0
for token in clinician la lead; do
    echo "== schemathesis as the $token user"
    exclude=()
    if [ -n "${EXCLUDE[$token]}" ]; then exclude=(--exclude-name-regex "${EXCLUDE[$token]}"); fi
    "$VENV/bin/schemathesis" run "$BASE/openapi.json" \
        -H "Authorization: Bearer $(cat "$WORK/$token.token")" \
        --include-path-regex "${PATHS[$token]}" "${exclude[@]}" \
        --checks all --exclude-checks positive_data_acceptance \
        --max-examples 50 --seed 1 2>&1 | tee "$WORK/$token.out" || status=1
    # schemathesis warns, without failing, when an operation only ever answered 401 or 403: the
    # token did not reach it, so it was not really tested.
    if grep -qi "authentication failed\|only 401/403" "$WORK/$token.out"; then
        echo "schemathesis: an operation in the $token pass was never authorised" >&2
        status=1
    fi
done
exit $status
