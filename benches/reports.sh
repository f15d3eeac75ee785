#!/usr/bin/env bash
# Reports at national scale (issue 12): seeds PEOPLE people with `cascade seed-scale` into a
# private cluster of its own under /tmp, serves them with the release build, and measures the
# warm latency of the four reports a national and a provincial reader open:
#
#   coverage national   GET /api/v1/reports/coverage                          as the administrator
#   coverage branch     GET /api/v1/reports/coverage?organization_id=<HN>     as BHXH-HN's coordinator
#   outreach national   GET /api/v1/reports/outreach                          as the administrator
#   outreach branch     GET /api/v1/reports/outreach?organization_id=<HN>     as BHXH-HN's coordinator
#
# Each: WARMUP requests first, then REQUESTS sequential ones timed by curl (%{time_total});
# median and p95 printed against the goals (national ≤ 200 ms, branch ≤ 50 ms, judged on the
# median). Exit status 1 when a goal is missed, 2 when something needed is missing.
#
#   benches/reports.sh                      # 100,000 people
#   PEOPLE=1000000 benches/reports.sh       # the issue's size
#   KEEP=1 …                                # keep the cluster folder (printed) for a rerun
#   DATA=/tmp/cascade-reports.XXXX …        # reuse a kept, seeded folder: no seeding
#   NO_BUILD=1 …                            # use target/release/cascade as it is
set -euo pipefail
cd "$(dirname "$0")/.."

PEOPLE=${PEOPLE:-100000}
SEED=${SEED:-1}
WARMUP=${WARMUP:-5}
REQUESTS=${REQUESTS:-50}
PORT=${PORT:-18491}
NATIONAL_GOAL_MS=${NATIONAL_GOAL_MS:-200}
BRANCH_GOAL_MS=${BRANCH_GOAL_MS:-50}
PASSWORD=bench-reports-2027
PG_BIN=${PG_BIN:-$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)}

command -v curl >/dev/null || { echo "curl is missing" >&2; exit 2; }
[ -x "$PG_BIN/psql" ] || { echo "psql is missing (PostgreSQL server programs)" >&2; exit 2; }
[ -n "${NO_BUILD:-}" ] || cargo build --release --quiet
BIN=./target/release/cascade

SEED_SECONDS=reused
if [ -z "${DATA:-}" ]; then
    DATA=$(mktemp -d /tmp/cascade-reports.XXXXXX)
    chmod 755 "$DATA"
    FRESH=1
fi
SERVER=
cleanup() {
    [ -n "$SERVER" ] && { kill -TERM "$SERVER" 2>/dev/null || true; wait "$SERVER" 2>/dev/null || true; }
    if [ -n "${KEEP:-}" ]; then echo "kept: DATA=$DATA" >&2; else rm -rf "$DATA"; fi
}
trap cleanup EXIT
export CASCADE_DATA_DIR="$DATA" CASCADE_BIND="127.0.0.1:$PORT"
unset DATABASE_URL

if [ -n "${FRESH:-}" ]; then
    echo "seeding $PEOPLE people (seed $SEED) …" >&2
    START=$(date +%s.%N)
    "$BIN" seed-scale --people "$PEOPLE" --seed "$SEED" --password "$PASSWORD" >"$DATA/seed.log"
    SEED_SECONDS=$(echo "$(date +%s.%N) - $START" | bc)
    cat "$DATA/seed.log" >&2
fi

"$BIN" serve --skip-digest-backfill >"$DATA/serve.log" 2>&1 &
SERVER=$!
BASE="http://127.0.0.1:$PORT"
for _ in $(seq 1 240); do
    curl -sf "$BASE/readyz" >/dev/null && break
    sleep 0.5
done
curl -sf "$BASE/readyz" >/dev/null || { echo "cascade did not start:" >&2; tail -20 "$DATA/serve.log" >&2; exit 1; }

SOCK="$DATA/postgres/run"
PSQL() { "$PG_BIN/psql" -h "$SOCK" -U postgres -d cascade -At "$@"; }
login() {
    curl -s -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
        -d "{\"username\":\"$1\",\"password\":\"$PASSWORD\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p'
}
ADMIN=$(login quantri.quymo)
BRANCH=$(login dieuphoi.quymo.hn)
HN=$(PSQL -c "SELECT id FROM organizations WHERE code = 'BHXH-HN'")
[ -n "$ADMIN" ] && [ -n "$BRANCH" ] && [ -n "$HN" ] || { echo "cannot sign in to the seeded data" >&2; exit 1; }

# one case: its median and p95 in milliseconds, after checking it answers 200
FAILED=0
OUT="$DATA/results"
: >"$OUT"
measure() {
    local name=$1 token=$2 path=$3 goal=$4
    local code
    code=$(curl -s -o "$DATA/body" -w '%{http_code}' -H "Authorization: Bearer $token" "$BASE$path")
    if [ "$code" != 200 ]; then
        echo "  $name: HTTP $code: $(head -c 300 "$DATA/body")"
        FAILED=1
        return
    fi
    for _ in $(seq 1 "$WARMUP"); do
        curl -s -o /dev/null -H "Authorization: Bearer $token" "$BASE$path"
    done
    for _ in $(seq 1 "$REQUESTS"); do
        curl -s -o /dev/null -w '%{time_total}\n' -H "Authorization: Bearer $token" "$BASE$path"
    done | sort -n | awk -v n="$name" -v g="$goal" '
        { t[NR] = $1 * 1000 }
        END {
            med = (NR % 2) ? t[(NR + 1) / 2] : (t[NR / 2] + t[NR / 2 + 1]) / 2
            p95 = t[int(NR * 0.95 + 0.999)]
            verdict = (med <= g) ? "ok" : "MISSED"
            printf "  %-18s median %8.1f ms   p95 %8.1f ms   goal %4d ms  %s\n", n, med, p95, g, verdict
        }' | tee -a "$OUT"
}

SIZE=$(PSQL -c "SELECT pg_size_pretty(pg_database_size('cascade'))")
COUNTS=$(PSQL -c "SELECT (SELECT count(*) FROM users) || ' people, ' || (SELECT count(*) FROM enrollments) || ' enrolments, ' || (SELECT count(*) FROM certificates) || ' certificates, ' || (SELECT count(*) FROM outreach_entries) || ' outreach entries, ' || (SELECT count(*) FROM cohorts) || ' cohorts, ' || (SELECT count(*) FROM organizations) || ' organisations'")
echo "cascade reports benchmark, $(date -u '+%F %H:%M UTC'); machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo)"
echo "data: $COUNTS; database $SIZE; seeded in ${SEED_SECONDS}s"
echo "warm latency, $REQUESTS sequential requests after $WARMUP warm-ups:"
measure "coverage national" "$ADMIN" "/api/v1/reports/coverage" "$NATIONAL_GOAL_MS"
measure "coverage branch" "$BRANCH" "/api/v1/reports/coverage?organization_id=$HN" "$BRANCH_GOAL_MS"
measure "outreach national" "$ADMIN" "/api/v1/reports/outreach" "$NATIONAL_GOAL_MS"
measure "outreach branch" "$BRANCH" "/api/v1/reports/outreach?organization_id=$HN" "$BRANCH_GOAL_MS"
grep -q MISSED "$OUT" && FAILED=1
exit "$FAILED"
