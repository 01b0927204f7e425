#!/usr/bin/env bash
# Validate every answer shape the reference service serves with an independent validator
# (tools/fhir-validate/validate.py: fhir.resources' R4 models, plus checks read at run time from
# the published profiles, ValueSet, error handling page and PDS examples under
# ../shared/fixtures). Seeds a small synthetic SQLite database, starts cpis-service on a free
# loopback port with the TEST-ONLY keys, gets tokens for dev-idp's clinician and local
# authority user, and runs the validator, which first proves it refuses deliberately broken
# answers. Installs its pinned packages (requirements.txt) into a virtual environment.
#
# Usage: tools/fhir-validate/run.sh [path/to/cpis-service]
# Needs python3 (with venv) and openssl. Exits non-zero on any failure.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/tools/fhir-validate"
BINARY="${1:-$ROOT/target/debug/cpis-service}"
KEY="$ROOT/crates/cpis-service/tests/keys/TEST-ONLY-rsa-signing-key.pem"
BROKER_KEY="$ROOT/crates/cpis-broker/dev-keys/DEV-ONLY-broker-signing-key.pem"
APP_JWKS="$ROOT/crates/cpis-broker/dev-keys/DEV-ONLY-broker.jwks.public.json"
FIXTURES="${CPIS_SHARED_FIXTURES:-$ROOT/../shared/fixtures}"
VENV="${CPIS_FHIR_VALIDATE_VENV:-${TMPDIR:-/tmp}/cpis-fhir-validate-venv}"
WORK="$(mktemp -d)"
SERVER_PID=""
cleanup() {
    if [ -n "$SERVER_PID" ]; then kill -TERM "$SERVER_PID" 2>/dev/null || true; wait "$SERVER_PID" 2>/dev/null || true; fi
    rm -rf "$WORK"
}
trap cleanup EXIT

# (Re)install when the venv is missing or was made from another requirements.txt.
if ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt" 2>/dev/null; then
    python3 -m venv --clear "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
    cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi

"$BINARY" seed --database "sqlite://$WORK/v.db" --children 200 --seed 11 --manifest "$WORK/manifest.json" 2>/dev/null
python3 "$ROOT/crates/cpis-service/scripts/test_tokens.py" jwks "$KEY" "$WORK/jwks.json"
"$BINARY" serve --database "sqlite://$WORK/v.db" --listen 127.0.0.1:0 \
    --issuer https://idp.test.invalid --jwks-file "$WORK/jwks.json" --app-jwks-file "$APP_JWKS" \
    > "$WORK/serve.out" 2> "$WORK/serve.err" &
SERVER_PID=$!
for _ in $(seq 1 100); do grep -q "listening on" "$WORK/serve.out" 2>/dev/null && break; sleep 0.1; done
BASE="$(sed -n 's/^cpis-service listening on //p' "$WORK/serve.out")"
[ -n "$BASE" ] || { echo "cpis-service did not start" >&2; cat "$WORK/serve.err" >&2; exit 1; }
python3 "$ROOT/crates/cpis-service/scripts/test_tokens.py" tokens "$KEY" "$BROKER_KEY" "$WORK" "$BASE"

"$VENV/bin/python" "$HERE/validate.py" --base "$BASE" --tokens "$WORK" \
    --manifest "$WORK/manifest.json" --fixtures "$FIXTURES"
