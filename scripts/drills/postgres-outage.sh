#!/usr/bin/env bash
# PostgreSQL-outage drill (issue 13): `cascade serve --demo` on a private PostgreSQL cluster,
# under load on the public verification and on `GET /api/v1/me`; the cluster's PostgreSQL is
# stopped (`pg_ctl stop -m fast`, as the postgres user) for DOWN seconds and started again, and
# Cascade is left alone. Load: wrk (CONNECTIONS connections) for the whole run, plus a timed
# probe (scripts/drills/probe.py, PROBES threads) that records every request's start, end and
# answer. Reports:
#   - while PostgreSQL is down: max and p99 latency of the 503s, the share of 503 `unavailable`
#     among the answers that were not a success, and the slowest answer of any kind;
#   - the time from PostgreSQL back (pg_ctl start returned) to 100 % success;
#   - that Cascade never restarted (same process throughout, still serving);
#   - wrk's own figures over the whole run (requests, status counts, max latency).
# Goals (exit 1 when one is missed): every answer while down within 1 s and every failure a
# 503; success back within 5 s; no restart.
# Traffic to 127.0.0.1 only; everything lives in a mktemp -d folder under /tmp and is stopped
# and removed on exit; every wait is bounded.
#
#   scripts/drills/postgres-outage.sh                  # dev build (cargo build)
#   PROFILE=release scripts/drills/postgres-outage.sh
#   BIN=path/to/cascade DOWN=5 scripts/drills/postgres-outage.sh
#   KEEP_LOG=/tmp/outage-serve.log scripts/drills/postgres-outage.sh   # keep Cascade's log
set -euo pipefail
cd "$(dirname "$0")/../.."

PROFILE=${PROFILE:-dev}
DOWN=${DOWN:-10}
BEFORE=${BEFORE:-5}
AFTER=${AFTER:-10}
CONNECTIONS=${CONNECTIONS:-32}
PROBES=${PROBES:-4}
PORT=${PORT:-18495}
BASE="http://127.0.0.1:$PORT"
PG_BIN=${PG_BIN:-$(pg_config --bindir 2>/dev/null || ls -d /usr/lib/postgresql/*/bin | sort -V | tail -1)}

command -v wrk >/dev/null || { echo "wrk is missing: apt-get install wrk" >&2; exit 2; }
command -v python3 >/dev/null || { echo "python3 is missing" >&2; exit 2; }
[ -x "$PG_BIN/pg_ctl" ] || { echo "pg_ctl is missing (PostgreSQL server programs)" >&2; exit 2; }
if [ -n "${BIN:-}" ]; then
    PROFILE="prebuilt $BIN"
else case "$PROFILE" in
    dev) cargo build --quiet --bin cascade; BIN=target/debug/cascade ;;
    release) cargo build --release --quiet --bin cascade; BIN=target/release/cascade ;;
    *) echo "PROFILE must be dev or release" >&2; exit 2 ;;
esac; fi
BIN=$(realpath "$BIN")
PROBE=$(realpath scripts/drills/probe.py)

DATA=$(mktemp -d /tmp/cascade-outage.XXXXXX)
chmod 755 "$DATA"
PGDATA="$DATA/postgres/pgdata"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
SERVER=
cleanup() {
    set +e
    [ -n "${WRK:-}" ] && kill "$WRK" 2>/dev/null
    [ -n "${PROBER:-}" ] && kill "$PROBER" 2>/dev/null
    if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then
        kill -TERM "$SERVER"
        for _ in $(seq 1 150); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.1; done
        kill -KILL "$SERVER" 2>/dev/null
    fi
    # a PostgreSQL the drill started itself (or one left behind) goes too
    [ -f "$PGDATA/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" stop -m immediate -w -t 20 >/dev/null 2>&1
    [ -n "${KEEP_LOG:-}" ] && cp "$DATA/serve.log" "$KEEP_LOG"
    rm -rf "$DATA"
}
trap cleanup EXIT

CASCADE_DATA_DIR="$DATA" CASCADE_BIND="127.0.0.1:$PORT" CASCADE_TRUSTED_PROXIES=127.0.0.1 \
    RUST_LOG=${RUST_LOG:-warn} "$BIN" serve --demo >"$DATA/serve.log" 2>&1 &
SERVER=$!
for _ in $(seq 1 240); do
    curl -sf "$BASE/readyz" >/dev/null && break
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.5
done
curl -sf "$BASE/readyz" >/dev/null || { echo "cascade did not start:" >&2; tail -20 "$DATA/serve.log" >&2; exit 1; }

PASSWORD=cascade-demo-2027
TOKEN=$(curl -s --max-time 10 -X POST "$BASE/api/v1/auth/login" -H 'content-type: application/json' \
    -d "{\"username\":\"hang.nt\",\"password\":\"$PASSWORD\"}" | sed -n 's/.*"access_token":"\([^"]*\)".*/\1/p')
SOCK=$(sed -n 5p "$PGDATA/postmaster.pid")
PGPORT=$(sed -n 4p "$PGDATA/postmaster.pid")
CODE=$("$PG_BIN/psql" -h "$SOCK" -p "$PGPORT" -U postgres -d cascade -At \
    -c "SELECT verification_code FROM certificates WHERE status = 'valid' ORDER BY serial LIMIT 1")
[ -n "$TOKEN" ] && [ -n "$CODE" ] || { echo "demo data missing (token or code)" >&2; exit 1; }
curl -sf --max-time 10 "$BASE/api/v1/verify/$CODE" -H 'X-Forwarded-For: 10.0.0.1' >/dev/null
curl -sf --max-time 10 "$BASE/api/v1/me" -H "Authorization: Bearer $TOKEN" >/dev/null
# the options PostgreSQL was started with, to start it again the same way
PG_OPTS=$(python3 - "$PGDATA/postmaster.opts" <<'EOF'
import shlex, sys
args = shlex.split(open(sys.argv[1]).read())[1:]
out, skip = [], False
for a in args:
    if skip:
        skip = False
        continue
    if a == "-D":
        skip = True
        continue
    out.append(shlex.quote(a))
print(" ".join(out))
EOF
)

cat >"$DATA/load.lua" <<EOF
-- verify (a different client address each) and /me in turn; statuses counted per thread
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) counts = {}; n = 0 end
request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("GET", "/api/v1/me", { ["Authorization"] = "Bearer $TOKEN" })
  end
  return wrk.format("GET", "/api/v1/verify/$CODE", { ["X-Forwarded-For"] =
    string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254)) })
end
response = function(status, headers, body) counts[status] = (counts[status] or 0) + 1 end
done = function(summary, latency, requests)
  local total = {}
  for _, t in ipairs(threads) do
    for k, v in pairs(t:get("counts")) do total[k] = (total[k] or 0) + v end
  end
  local line = ""
  for k, v in pairs(total) do line = line .. string.format(" %s:%d", k, v) end
  io.write(string.format("wrk: %d requests, statuses%s, socket errors connect %d read %d write %d timeout %d\n",
    summary.requests, line, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
  io.write(string.format("wrk: latency p99 %.1f ms, max %.1f ms (the whole run)\n",
    latency:percentile(99) / 1000, latency.max / 1000))
end
EOF

TOTAL=$((BEFORE + DOWN + AFTER + 3))
now() { date +%s.%N; }
wrk -t2 -c"$CONNECTIONS" -d"${TOTAL}s" --timeout 5s -s "$DATA/load.lua" "$BASE" >"$DATA/wrk.txt" 2>&1 &
WRK=$!
python3 "$PROBE" "$DATA/probe.txt" "$TOTAL" "$PROBES" "$PORT" "$TOKEN" \
    "/api/v1/verify/$CODE" /api/v1/me &
PROBER=$!

sleep "$BEFORE"
T_STOP=$(now)
as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" stop -m fast -w -t 30 >/dev/null
T_DOWN=$(now)
sleep "$DOWN"
T_START=$(now)
as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" start -w -t 30 -l "$DATA/postgres/postgres.log" -o "$PG_OPTS" >/dev/null
T_BACK=$(now)
# wrk and the probe end by themselves; bounded waits all the same
for _ in $(seq 1 $(((AFTER + 20) * 10))); do
    kill -0 "$WRK" 2>/dev/null || kill -0 "$PROBER" 2>/dev/null || break
    sleep 0.1
done
wait "$WRK" || true
wait "$PROBER" || true
WRK= PROBER=

RESTARTED=no
kill -0 "$SERVER" 2>/dev/null || RESTARTED="yes (the process is gone)"
curl -sf --max-time 5 "$BASE/readyz" >/dev/null || RESTARTED="$RESTARTED; not ready at the end"
METRICS=$(curl -s --max-time 5 "$BASE/metrics" | grep -E '^cascade_(database_unavailable_total|db_breaker_open) ' || true)

echo "cascade PostgreSQL-outage drill: $PROFILE build, PostgreSQL down ${DOWN}s under load"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u '+%F %H:%M UTC'); load: wrk $CONNECTIONS connections + $PROBES timed probes"
cat "$DATA/wrk.txt"
# the causes of any 500 (Cascade logs them; the log carries no personal data)
grep -a 'internal error' "$DATA/serve.log" | sed -n 's/.*cause[=:] *//p' | sort | uniq -c | sort -rn | head -5 |
    sed 's/^/500 cause: /' || true
echo "$METRICS" | sed 's/^/metrics: /'
python3 - "$DATA/probe.txt" "$T_STOP" "$T_DOWN" "$T_START" "$T_BACK" "$RESTARTED" <<'EOF'
import sys
path, t_stop, t_down, t_start, t_back, restarted = sys.argv[1:7]
t_stop, t_down, t_start, t_back = map(float, (t_stop, t_down, t_start, t_back))
rows = []
for line in open(path):
    start, end, outcome, _ = line.split()
    rows.append((float(start), float(end), outcome))
ok = lambda o: o in ("200", "404")
print("probe: %d requests; pg_ctl stop took %.2f s, start %.2f s" % (len(rows), t_down - t_stop, t_back - t_start))
# while down: requests that began after the stop was asked for and before PostgreSQL was back
down = [r for r in rows if t_stop <= r[0] < t_back]
failed = [r for r in down if not ok(r[2])]
u503 = sorted(r[1] - r[0] for r in failed if r[2] == "503")
other = {}
for r in failed:
    if r[2] != "503":
        other[r[2]] = other.get(r[2], 0) + 1
slowest = max((r[1] - r[0] for r in down), default=0.0)
goals = []
if u503:
    p99 = u503[min(len(u503) - 1, int(0.99 * len(u503)))]
    print("while down: %d requests, %d answered 503 (%.1f %% of the failures; other failures: %s)"
          % (len(down), len(u503), 100.0 * len(u503) / len(failed), other or "none"))
    print("while down: 503 latency p50 %.1f ms, p99 %.1f ms, max %.1f ms; slowest answer of any kind %.1f ms"
          % (1000 * u503[len(u503) // 2], 1000 * p99, 1000 * u503[-1], 1000 * slowest))
    goals.append(("every answer while down within 1 s", slowest < 1.0))
    goals.append(("every failure while down a 503", not other))
else:
    print("while down: no 503 at all (%d requests)" % len(down))
    goals.append(("503 while down", False))
# back: the last failure that began after PostgreSQL was back; 100 % success from its end on
after = [r for r in rows if r[0] >= t_back]
late = [r for r in after if not ok(r[2])]
recovery = max((r[1] for r in late), default=t_back) - t_back
print("back: %d requests after PostgreSQL returned, %d failed; 100 %% success %.2f s after it was back"
      % (len(after), len(late), recovery))
goals.append(("success back within 5 s", recovery < 5.0 and len(after) > len(late)))
print("restart of Cascade: %s" % restarted)
goals.append(("no restart", restarted == "no"))
missed = [name for name, met in goals if not met]
print("goals: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
sys.exit(1 if missed else 0)
EOF
