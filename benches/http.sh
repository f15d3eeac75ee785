#!/usr/bin/env bash
# HTTP benchmark: requests per second of `cascade serve` (release) on loopback, against a baseline
# measured in the same run. Interleaved rounds of:
#   healthz       GET /healthz                       (baseline: HTTP and middleware, no database)
#   me            GET /api/v1/me                     (JWT check + session and user look-up)
#   certificates  GET /api/v1/certificates?per_page=20  (scope filter + paging + views)
# Needs wrk (Debian: apt-get install wrk) and the PostgreSQL server programs; starts its own
# private cluster in a temporary folder and removes it afterwards. Bounded: ROUNDS × 3 × SECONDS.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-8}
CONNECTIONS=${CONNECTIONS:-16}
PORT=${PORT:-18480}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
cargo build --release --quiet
DATA=$(mktemp -d /tmp/cascade-bench.XXXXXX)
chmod 755 "$DATA"
CASCADE_DATA_DIR="$DATA" CASCADE_BIND="127.0.0.1:$PORT" RUST_LOG=error \
    ./target/release/cascade serve --demo >"$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT

for _ in $(seq 1 60); do
    curl -sf "http://127.0.0.1:$PORT/readyz" >/dev/null && break
    sleep 0.5
done
TOKEN=$(curl -s -X POST "http://127.0.0.1:$PORT/api/v1/auth/login" -H 'content-type: application/json' \
    -d '{"username":"nhansu.hn","password":"cascade-demo-2027"}' | sed 's/.*"access_token":"\([^"]*\)".*/\1/')

run() {
    local name=$1 path=$2
    wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" -H "Authorization: Bearer $TOKEN" \
        "http://127.0.0.1:$PORT$path" | awk -v n="$name" '/Requests\/sec/ {printf "%-13s %10.0f req/s\n", n, $2} /Latency/ {lat=$2} END {}'
}

echo "cascade HTTP benchmark: $ROUNDS interleaved rounds, ${SECONDS_EACH}s each, $CONNECTIONS connections, 2 wrk threads"
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r"
    run healthz /healthz
    run me /api/v1/me
    run certificates "/api/v1/certificates?per_page=20"
done
