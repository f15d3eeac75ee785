#!/usr/bin/env bash
# SIGTERM drill (issue 13): `cascade serve --demo` on its private PostgreSQL cluster, under load
# (wrk on the public verification and `GET /api/v1/me`, keep-alive connections, plus the timed
# probe scripts/drills/probe.py on the same two and a person's training record, its PROBES
# threads on keep-alive connections too), then SIGTERM to Cascade. Reports:
#   - the requests in flight when the signal went (begun before it, answered after it) and how
#     many of them failed without an answer (reset, closed) — the goal is none;
#   - what happened to requests begun after the signal (answered, refused at connect, closed);
#   - the time from SIGTERM to the process's exit against its shutdown timeout (SHUTDOWN_TIMEOUT,
#     the 10 s of `Application`), and its exit status;
#   - that the private PostgreSQL stopped cleanly: its log says "database system is shut down"
#     after the signal, no postmaster.pid is left, and no postgres process runs on the folder.
# Exits 1 when a goal is missed. Traffic to 127.0.0.1 only; everything lives in a mktemp -d folder
# under /tmp and is stopped and removed on exit; every wait is bounded.
#
#   scripts/drills/sigterm.sh                  # dev build (cargo build)
#   PROFILE=release scripts/drills/sigterm.sh
#   BIN=path/to/cascade LOAD=3 scripts/drills/sigterm.sh
set -euo pipefail
cd "$(dirname "$0")/../.."

PROFILE=${PROFILE:-dev}
LOAD=${LOAD:-5}
CONNECTIONS=${CONNECTIONS:-32}
PROBES=${PROBES:-8}
PORT=${PORT:-18497}
SHUTDOWN_TIMEOUT=${SHUTDOWN_TIMEOUT:-10}
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

DATA=$(mktemp -d /tmp/cascade-sigterm.XXXXXX)
chmod 755 "$DATA"
PGDATA="$DATA/postgres/pgdata"
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
SERVER=
cleanup() {
    set +e
    [ -n "${WRK:-}" ] && kill "$WRK" 2>/dev/null
    [ -n "${PROBER:-}" ] && kill "$PROBER" 2>/dev/null
    if [ -n "$SERVER" ] && kill -0 "$SERVER" 2>/dev/null; then
        kill -KILL "$SERVER" 2>/dev/null
    fi
    [ -f "$PGDATA/postmaster.pid" ] && as_postgres "$PG_BIN/pg_ctl" -D "$PGDATA" stop -m immediate -w -t 20 >/dev/null 2>&1
    [ -n "${KEEP_LOG:-}" ] && cp "$DATA/serve.log" "$KEEP_LOG" && cp "$DATA/postgres/postgres.log" "$KEEP_LOG.postgres"
    rm -rf "$DATA"
}
trap cleanup EXIT

CASCADE_DATA_DIR="$DATA" CASCADE_BIND="127.0.0.1:$PORT" CASCADE_TRUSTED_PROXIES=127.0.0.1 \
    RUST_LOG=${RUST_LOG:-info} "$BIN" serve --demo >"$DATA/serve.log" 2>&1 &
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
USER_ID=$(curl -s --max-time 10 "$BASE/api/v1/me" -H "Authorization: Bearer $TOKEN" | sed -n 's/^{"id":"\([^"]*\)".*/\1/p')
SOCK=$(sed -n 5p "$PGDATA/postmaster.pid")
PGPORT=$(sed -n 4p "$PGDATA/postmaster.pid")
CODE=$("$PG_BIN/psql" -h "$SOCK" -p "$PGPORT" -U postgres -d cascade -At \
    -c "SELECT verification_code FROM certificates WHERE status = 'valid' ORDER BY serial LIMIT 1")
[ -n "$TOKEN" ] && [ -n "$CODE" ] && [ -n "$USER_ID" ] || { echo "demo data missing" >&2; exit 1; }
LOG_LINES_BEFORE=$(wc -l <"$DATA/postgres/postgres.log")

cat >"$DATA/load.lua" <<EOF
local threads = {}
function setup(thread) table.insert(threads, thread) end
function init(args) n = 0 end
request = function()
  n = n + 1
  if n % 2 == 0 then
    return wrk.format("GET", "/api/v1/me", { ["Authorization"] = "Bearer $TOKEN" })
  end
  return wrk.format("GET", "/api/v1/verify/$CODE", { ["X-Forwarded-For"] =
    string.format("10.%d.%d.%d", math.random(0, 255), math.random(0, 255), math.random(1, 254)) })
end
done = function(summary, latency, requests)
  io.write(string.format("wrk: %d requests answered; socket errors connect %d read %d write %d timeout %d (after the listener closed: expected)\n",
    summary.requests, summary.errors.connect, summary.errors.read, summary.errors.write, summary.errors.timeout))
end
EOF

RUN=$((LOAD + SHUTDOWN_TIMEOUT + 5))
now() { date +%s.%N; }
wrk -t2 -c"$CONNECTIONS" -d"${RUN}s" --timeout 5s -s "$DATA/load.lua" "$BASE" >"$DATA/wrk.txt" 2>&1 &
WRK=$!
python3 "$PROBE" "$DATA/probe.txt" "$RUN" "$PROBES" "$PORT" "$TOKEN" \
    "/api/v1/verify/$CODE" /api/v1/me "/api/v1/users/$USER_ID/records" &
PROBER=$!
sleep "$LOAD"

T_TERM=$(now)
kill -TERM "$SERVER"
EXIT_STATUS=timeout
for _ in $(seq 1 $(((SHUTDOWN_TIMEOUT + 10) * 20))); do
    kill -0 "$SERVER" 2>/dev/null || break
    sleep 0.05
done
T_EXIT=$(now)
if ! kill -0 "$SERVER" 2>/dev/null; then
    EXIT_STATUS=0
    wait "$SERVER" || EXIT_STATUS=$?
fi
SERVER_PID=$SERVER
SERVER=
# the load ends by itself (RUN seconds); stop it now that there is nothing left to measure
sleep 1
kill -INT "$WRK" 2>/dev/null || true
for _ in $(seq 1 100); do kill -0 "$PROBER" 2>/dev/null || break; sleep 0.2; done
wait "$WRK" || true
wait "$PROBER" || true
WRK= PROBER=

PG_SHUT=no
tail -n +"$((LOG_LINES_BEFORE + 1))" "$DATA/postgres/postgres.log" | grep -q "database system is shut down" && PG_SHUT=yes
PID_LEFT=no
[ -f "$PGDATA/postmaster.pid" ] && PID_LEFT=yes
PG_RUNNING=$(pgrep -f -- "-D $PGDATA" | wc -l || true)

echo "cascade SIGTERM drill: $PROFILE build, SIGTERM after ${LOAD}s of load"
echo "machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo); $(date -u '+%F %H:%M UTC'); load: wrk $CONNECTIONS connections + $PROBES timed probes"
grep '^wrk:' "$DATA/wrk.txt" || cat "$DATA/wrk.txt"
python3 - "$DATA/probe.txt" "$T_TERM" "$T_EXIT" "$EXIT_STATUS" "$SHUTDOWN_TIMEOUT" "$PG_SHUT" "$PID_LEFT" "$PG_RUNNING" <<'EOF'
import sys
path, t_term, t_exit, status, timeout, pg_shut, pid_left, pg_running = sys.argv[1:9]
t_term, t_exit, timeout = float(t_term), float(t_exit), float(timeout)
rows = [(float(a), float(b), c, d) for a, b, c, d in (l.split() for l in open(path))]
answered = lambda o: not o.startswith("error:")
before = [r for r in rows if r[0] < t_term]
in_flight = [r for r in before if r[1] >= t_term]
lost = [r for r in in_flight if not answered(r[2])]
lost_before = [r for r in before if not answered(r[2])]
after = [r for r in rows if r[0] >= t_term]
kinds = {}
for r in after:
    k = r[2] if not answered(r[2]) else "answered"
    kinds[k] = kinds.get(k, 0) + 1
statuses = {}
for r in in_flight:
    statuses[r[2]] = statuses.get(r[2], 0) + 1
print("probe: %d requests before SIGTERM, %d of them failed without an answer" % (len(before), len(lost_before)))
print("in flight at SIGTERM: %d (answers %s), reset or closed without an answer: %d"
      % (len(in_flight), statuses or "none", len(lost)))
for r in lost_before[:5]:
    print("  failed: begun %+.1f ms, ended %+.1f ms from SIGTERM, %s on a %s connection"
          % (1000 * (r[0] - t_term), 1000 * (r[1] - t_term), r[2], r[3]))
print("begun after SIGTERM: %s" % (kinds or "none"))
took = t_exit - t_term
print("exit: %.2f s after SIGTERM (shutdown timeout %.0f s), exit status %s" % (took, timeout, status))
print("private PostgreSQL: log says 'database system is shut down': %s; postmaster.pid left: %s; postgres processes left: %s"
      % (pg_shut, pid_left, pg_running.strip()))
goals = [
    ("requests were in flight at SIGTERM", len(in_flight) > 0),
    ("no in-flight request reset", not lost and not lost_before),
    ("exit within the shutdown timeout", status == "0" and took <= timeout),
    ("PostgreSQL shut down cleanly", pg_shut == "yes" and pid_left == "no" and pg_running.strip() == "0"),
]
missed = [name for name, met in goals if not met]
print("goals: " + ("all met" if not missed else "MISSED: " + "; ".join(missed)))
sys.exit(1 if missed else 0)
EOF
