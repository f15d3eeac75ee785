#!/usr/bin/env bash
# Read-path benchmark (issue 11): requests per second and p99 of the three reads the public and
# the trainees make most, against what the same PostgreSQL does alone, measured in the same run.
#
#   baseline  pgbench -S -M prepared, 64 clients, on the very cluster Cascade uses
#   verify    GET /api/v1/verify/{code}, anonymous, a different X-Forwarded-For per request
#             (Cascade trusts 127.0.0.1 as a proxy here, so the per-address limit is not measured)
#   me        GET /api/v1/me with a trainee's token
#   records   GET /api/v1/users/{id}/records with the same trainee's token (their own record)
#   flood     `me` again while 50 more clients log in continuously (password hashing under load)
#
# Each round runs every case once (interleaved), ROUNDS times; the summary gives medians, the
# ratio to the baseline of the same round, and Cascade's memory (RSS idle, peak under load).
# Needs wrk and pgbench (Debian: apt-get install wrk postgresql-contrib is not needed — pgbench
# ships with the server programs). Starts its own private cluster in a temporary folder and
# removes it afterwards. Traffic goes to 127.0.0.1 only. Bounded: ROUNDS × 5 × SECONDS_EACH.
set -euo pipefail
cd "$(dirname "$0")/.."

ROUNDS=${ROUNDS:-3}
SECONDS_EACH=${SECONDS_EACH:-8}
CONNECTIONS=${CONNECTIONS:-64}
PORT=${PORT:-18481}
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
[ -x "$PG_BIN/pgbench" ] || { echo "pgbench is missing (PostgreSQL server programs)" >&2; exit 2; }
cargo build --release --quiet
DATA=$(mktemp -d /tmp/cascade-bench.XXXXXX)
chmod 755 "$DATA"
LUA="$DATA/lua"
mkdir -p "$LUA"
CASCADE_DATA_DIR="$DATA" CASCADE_BIND="127.0.0.1:$PORT" CASCADE_TRUSTED_PROXIES=127.0.0.1 \
    ./target/release/cascade serve --demo >"$DATA/serve.log" 2>&1 &
SERVER=$!
trap 'kill -TERM $SERVER 2>/dev/null; wait $SERVER 2>/dev/null; rm -rf "$DATA"' EXIT

BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 120); do
    curl -sf "$BASE/readyz" >/dev/null && break
    sleep 0.5
done
curl -sf "$BASE/readyz" >/dev/null || { echo "cascade did not start:" >&2; tail -20 "$DATA/serve.log" >&2; exit 1; }
sleep 1
rss() { awk '/^VmRSS/ {printf "%.1f", $2/1024}' "/proc/$SERVER/status"; }
peak() { awk '/^VmHWM/ {printf "%.1f", $2/1024}' "/proc/$SERVER/status"; }
IDLE_RSS=$(rss)

SOCK="$DATA/postgres/run"
PSQL() { "$PG_BIN/psql" -h "$SOCK" -U postgres -At "$@"; }
# the runs' pgbench database beside Cascade's, on the same server
PSQL -d postgres -c 'CREATE DATABASE pgbench' >/dev/null
"$PG_BIN/pgbench" -h "$SOCK" -U postgres -i -s 10 -q pgbench >/dev/null 2>&1

PASSWORD=cascade-demo-2027
login() {
    curl -s -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" | sed 's/.*"access_token":"\([^"]*\)".*/\1/'
}
TOKEN=$(login hang.nt)
USER_ID=$(curl -s "$BASE/api/v1/me" -H "Authorization: Bearer $TOKEN" | sed 's/^{"id":"\([^"]*\)".*/\1/')
CODE=$(PSQL -d cascade -c "SELECT verification_code FROM certificates WHERE status = 'valid' ORDER BY serial LIMIT 1")
[ -n "$CODE" ] && [ -n "$USER_ID" ] || { echo "demo data missing (code '$CODE', user '$USER_ID')" >&2; exit 1; }
curl -sf "$BASE/api/v1/users/$USER_ID/records" -H "Authorization: Bearer $TOKEN" >/dev/null

cat >"$LUA/xff.lua" <<'EOF'
-- a different client address per request, as many phones behind one proxy
request = function()
  wrk.headers["X-Forwarded-For"] = string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254))
  return wrk.format(nil)
end
EOF
# fifty trainees who can sign in with the demo password (its hash copied from a demo account)
PSQL -d cascade -c "
    INSERT INTO users (username, full_name, name_search, organization_id, category, password_hash)
    SELECT 'flood.' || n, 'Học viên ' || n, 'hoc vien ' || n, u.organization_id, u.category, u.password_hash
    FROM users u, generate_series(1, 50) n WHERE u.username = 'hang.nt';
    INSERT INTO user_roles (user_id, role) SELECT id, 'trainee' FROM users WHERE username LIKE 'flood.%';" >/dev/null
cat >"$LUA/login.lua" <<EOF
-- fifty people log in again and again, each from an address of their own
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
request = function()
  local n = math.random(1, 50)
  wrk.headers["X-Forwarded-For"] = "10.9.0." .. n
  return wrk.format(nil, nil, nil, '{"username":"flood.' .. n .. '","password":"$PASSWORD"}')
end
EOF

OUT="$DATA/results"
: >"$OUT"
# wrk's "Requests/sec" and its 99th percentile in milliseconds
wrk_case() {
    local name=$1 round=$2
    shift 2
    wrk -t2 -c"$CONNECTIONS" -d"${SECONDS_EACH}s" --latency "$@" | awk -v n="$name" -v r="$round" '
        function ms(v) { if (v ~ /us$/) return v / 1000; if (v ~ /ms$/) return v + 0; if (v ~ /s$/) return v * 1000; return v }
        /Requests\/sec/ { rps = $2 }
        $1 == "99%" { p99 = ms($2) }
        /Non-2xx/ { bad = $NF }
        END { printf "%s %s %.0f %.2f %s\n", n, r, rps, p99, bad + 0 }' >>"$OUT"
    tail -1 "$OUT" | awk '{printf "  %-9s %8d req/s  p99 %7.2f ms  non-2xx %d\n", $1, $3, $4, $5}'
}
pgbench_case() {
    local round=$1
    "$PG_BIN/pgbench" -h "$SOCK" -U postgres -S -M prepared -c "$CONNECTIONS" -j 2 -T "$SECONDS_EACH" pgbench 2>/dev/null |
        awk -v r="$round" '/latency average/ {lat = $4} /^tps/ {tps = $3} END {printf "baseline %s %.0f %.2f 0\n", r, tps, lat}' >>"$OUT"
    tail -1 "$OUT" | awk '{printf "  %-9s %8d tx/s   (average latency %.2f ms)\n", $1, $3, $4}'
}

echo "cascade read-path benchmark: $ROUNDS interleaved rounds, ${SECONDS_EACH}s each, $CONNECTIONS connections"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u +%F)"
for r in $(seq 1 "$ROUNDS"); do
    echo "round $r"
    pgbench_case "$r"
    wrk_case verify "$r" -s "$LUA/xff.lua" "$BASE/api/v1/verify/$CODE"
    wrk_case me "$r" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/me"
    wrk_case records "$r" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/users/$USER_ID/records"
    [ "$r" = 1 ] && READ_RSS=$(peak)
    wrk -t1 -c50 -d"$((SECONDS_EACH + 2))s" -s "$LUA/login.lua" "$BASE/api/v1/auth/login" >"$DATA/flood.txt" &
    FLOOD=$!
    sleep 1
    wrk_case flood "$r" -H "Authorization: Bearer $TOKEN" "$BASE/api/v1/me"
    wait $FLOOD
    awk '/Requests\/sec/ {printf "  (logins meanwhile: %.0f/s)\n", $2}' "$DATA/flood.txt"
done
LOAD_RSS=$(peak)

echo
echo "medians of $ROUNDS rounds (ratio: to the baseline of the same round, then the median)"
awk '
    { rps[$1, $2] = $3; p99[$1, $2] = $4; rounds[$2] = 1; names[$1] = 1 }
    function median(arr, n,   i, j, t) {
        for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (arr[j] < arr[i]) { t = arr[i]; arr[i] = arr[j]; arr[j] = t }
        return (n % 2) ? arr[(n + 1) / 2] : (arr[n / 2] + arr[n / 2 + 1]) / 2
    }
    END {
        split("baseline verify me records flood", order, " ")
        for (k = 1; k <= 5; k++) {
            name = order[k]; if (!(name in names)) continue
            n = 0
            for (r in rounds) { n++; a[n] = rps[name, r]; b[n] = p99[name, r]
                c[n] = (name == "flood") ? rps[name, r] / rps["me", r] : rps[name, r] / rps["baseline", r] }
            m = median(a, n); q = median(b, n); x = median(c, n)
            if (name == "baseline") printf "%-9s %8d tx/s\n", name, m
            else if (name == "flood") printf "%-9s %8d req/s  p99 %7.2f ms  %5.1f %% of me alone\n", name, m, q, 100 * x
            else printf "%-9s %8d req/s  p99 %7.2f ms  %5.1f %% of baseline\n", name, m, q, 100 * x
        }
    }' "$OUT"
echo "memory: RSS idle $IDLE_RSS MB, peak $READ_RSS MB under the reads (round 1), peak $LOAD_RSS MB after the login floods"
