#!/usr/bin/env bash
# Schemathesis drill (issue 13): the OpenAPI document validates, and schemathesis with every check
# and every phase finds no failure, anonymous and once per role (administrator, coordinator,
# trainee). Starts `cascade serve --demo` on a private cluster in a temporary folder, talks to
# 127.0.0.1 only, removes everything on exit. Exits non-zero on any failure.
#
#   scripts/drills/schemathesis.sh                 # dev build, 30 examples per operation
#   PROFILE=release EXAMPLES=100 scripts/drills/schemathesis.sh
#   VENV=/tmp/st-venv scripts/drills/schemathesis.sh   # reuse (or create) a virtualenv
#   BIN=path/to/cascade scripts/drills/schemathesis.sh   # a binary already built
#   ST_CONFIG= scripts/drills/schemathesis.sh   # without the exceptions of schemathesis.toml
#
# Bounded: start-up waits at most 60 s, each schemathesis run at most RUN_TIMEOUT seconds.
set -euo pipefail
cd "$(dirname "$0")/../.."

PROFILE=${PROFILE:-dev}
EXAMPLES=${EXAMPLES:-30}
PORT=${PORT:-18490}
RUN_TIMEOUT=${RUN_TIMEOUT:-900}
WORKERS=${WORKERS:-2}
SEED=${SEED:-}
# the drill's settings: the few documented exceptions (ST_CONFIG= runs without them)
ST_CONFIG=${ST_CONFIG-scripts/drills/schemathesis.toml}
PASSWORD=cascade-demo-2027
BASE="http://127.0.0.1:$PORT"

if [ -n "${BIN:-}" ]; then
    PROFILE="prebuilt $BIN"
else case "$PROFILE" in
    dev) cargo build --quiet --bin cascade; BIN=target/debug/cascade ;;
    release) cargo build --release --quiet --bin cascade; BIN=target/release/cascade ;;
    *) echo "PROFILE must be dev or release" >&2; exit 2 ;;
esac; fi

DATA=$(mktemp -d /tmp/cascade-st.XXXXXX)
chmod 755 "$DATA"
SERVER=""
cleanup() {
    if [ -n "$SERVER" ]; then
        kill -TERM "$SERVER" 2>/dev/null || true
        for _ in $(seq 1 60); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
    fi
    rm -rf "$DATA"
}
trap cleanup EXIT

# the tools, pinned
VENV=${VENV:-$DATA/venv}
if [ ! -x "$VENV/bin/st" ] || [ ! -x "$VENV/bin/openapi-spec-validator" ]; then
    python3 -m venv "$VENV"
    timeout 600 "$VENV/bin/pip" install --quiet -r scripts/drills/requirements.txt
fi
ST_VERSION=$("$VENV/bin/st" --version 2>&1 | tail -n1)

CASCADE_DATA_DIR="$DATA/data" CASCADE_BIND="127.0.0.1:$PORT" CASCADE_PUBLIC_URL="$BASE" \
    RUST_LOG=${RUST_LOG:-warn} "$BIN" serve --demo >"$DATA/serve.log" 2>&1 &
SERVER=$!
ready=no
for _ in $(seq 1 120); do
    if curl -sf --max-time 2 "$BASE/readyz" >/dev/null; then ready=yes; break; fi
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.5
done
if [ "$ready" != yes ]; then
    echo "cascade did not become ready within 60 s:" >&2
    tail -n 20 "$DATA/serve.log" >&2
    exit 1
fi

# 1. the document validates
curl -sf --max-time 10 "$BASE/api/openapi.json" -o "$DATA/openapi.json"
if timeout 120 "$VENV/bin/openapi-spec-validator" "$DATA/openapi.json" >"$DATA/validator.log" 2>&1; then
    echo "openapi-spec-validator: OK"
    DOC_OK=yes
else
    echo "openapi-spec-validator: FAILED"
    head -n 30 "$DATA/validator.log"
    DOC_OK=no
fi
OPERATIONS=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); print(sum(1 for p in d["paths"].values() for m in p if m in ("get","put","post","patch","delete")))' "$DATA/openapi.json")

login() {
    curl -s --max-time 30 -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" |
        python3 -c 'import json,sys; print(json.load(sys.stdin)["access_token"])'
}

# 2. schemathesis, once per caller. A caller with a token does not fuzz logging in (the failed
# attempts would lock the address for the next caller's login) nor logging out (its own token
# would end); the anonymous run, last, covers both.
TOTAL_FAILURES=0
SUMMARY=""
run() {
    local who=$1; shift
    local log="$DATA/st-$who.log"
    local seed_args=()
    [ -n "$SEED" ] && seed_args=(--seed "$SEED")
    set +e
    local config_args=()
    [ -n "$ST_CONFIG" ] && config_args=(--config-file "$ST_CONFIG")
    timeout "$RUN_TIMEOUT" "$VENV/bin/st" "${config_args[@]}" \
        run "$BASE/api/openapi.json" \
        --checks all --phases examples,coverage,fuzzing,stateful \
        --max-examples "$EXAMPLES" --workers "$WORKERS" --request-timeout 30 \
        --suppress-health-check all --no-color "${seed_args[@]}" \
        --report junit --report-junit-path "$DATA/junit-$who.xml" "$@" >"$log" 2>&1
    local rc=$?
    set -e
    local failures
    failures=$(python3 - "$DATA/junit-$who.xml" <<'PY'
import sys, xml.etree.ElementTree as ET
try:
    root = ET.parse(sys.argv[1]).getroot()
except Exception:
    print(-1); sys.exit()
print(sum(1 for _ in root.iter("failure")) + sum(1 for _ in root.iter("error")))
PY
)
    if [ "$rc" -ne 0 ] && [ "$failures" -le 0 ]; then failures=1; fi
    [ "$rc" -eq 124 ] && echo "$who: schemathesis exceeded ${RUN_TIMEOUT}s" >&2
    echo "---- $who: exit $rc, failures $failures"
    # the summary's figures, and the operations that failed
    grep -A1 -E "^  Selected:|^Test cases:" "$log" | grep -vE "^(--|Test cases:)$" || true
    grep -E "^Seed:|^=+ .* in [0-9.]+s =+$" "$log" || true
    grep -E "^_{5,} [A-Z]" "$log" | head -n 40 || true
    if [ "$failures" -gt 0 ]; then
        mkdir -p "${KEEP_LOGS:-/tmp/cascade-st-logs}"
        cp "$log" "${KEEP_LOGS:-/tmp/cascade-st-logs}/"
    fi
    TOTAL_FAILURES=$((TOTAL_FAILURES + failures))
    SUMMARY="$SUMMARY $who=$failures"
}

TOKEN=$(login hang.nt)
run trainee -H "Authorization: Bearer $TOKEN" \
    --exclude-path /api/v1/auth/login --exclude-path /api/v1/auth/logout
TOKEN=$(login dieuphoi.hn)
run coordinator -H "Authorization: Bearer $TOKEN" \
    --exclude-path /api/v1/auth/login --exclude-path /api/v1/auth/logout
TOKEN=$(login quantri)
run administrator -H "Authorization: Bearer $TOKEN" \
    --exclude-path /api/v1/auth/login --exclude-path /api/v1/auth/logout
run anonymous

if grep -q "panicked" "$DATA/serve.log"; then
    echo "the server panicked during the drill:" >&2
    grep -m5 "panicked" "$DATA/serve.log" >&2
    TOTAL_FAILURES=$((TOTAL_FAILURES + 1))
fi

echo
echo "schemathesis drill ($(date -u +%FT%TZ), profile $PROFILE, $ST_VERSION, $EXAMPLES examples per operation, $OPERATIONS operations)"
echo "document valid: $DOC_OK; failures per caller:$SUMMARY; total $TOTAL_FAILURES"
[ "$DOC_OK" = yes ] && [ "$TOTAL_FAILURES" -eq 0 ]
