#!/usr/bin/env bash
# Check our AuditEvents against the England-AuditEvent-PARS profile (tools/fhir-validate/pars.py,
# which reads the profile under ../shared/fixtures at run time and proves itself on broken copies
# first): every client record shape and every server read event, written by
# `cargo run -q -p cpis-audit --example pars_events`. Uses the same pinned virtual environment
# as run.sh (created here when missing or made from another requirements.txt).
#
# Usage: tools/fhir-validate/pars.sh [extra AuditEvent files or directories...]
# Needs python3 (with venv). Exits non-zero on any invalid event.
set -euo pipefail

ROOT="$(cd "$(dirname "$0")/../.." && pwd)"
HERE="$ROOT/tools/fhir-validate"
FIXTURES="${CPIS_SHARED_FIXTURES:-$ROOT/../shared/fixtures}"
VENV="${CPIS_FHIR_VALIDATE_VENV:-${TMPDIR:-/tmp}/cpis-fhir-validate-venv}"
WORK="$(mktemp -d)"
trap 'rm -rf "$WORK"' EXIT

# (Re)install when the venv is missing or was made from another requirements.txt.
if ! cmp -s "$HERE/requirements.txt" "$VENV/requirements.txt" 2>/dev/null; then
    python3 -m venv --clear "$VENV"
    "$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
    cp "$HERE/requirements.txt" "$VENV/requirements.txt"
fi

(cd "$ROOT" && cargo run -q -p cpis-audit --example pars_events -- "$WORK/events")
"$VENV/bin/python" "$HERE/pars.py" --fixtures "$FIXTURES" "$WORK/events" "$@"
