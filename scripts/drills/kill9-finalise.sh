#!/usr/bin/env bash
# kill -9 during finalise drill (issue 13): `cascade serve` on a private PostgreSQL cluster, a
# cohort of SIZE (default 1,000) people who all completed, `POST /cohorts/{id}/finalize`, and
# Cascade killed with SIGKILL some time after the request left (KILL_AT: milliseconds, or a
# percentage of the finalise time measured in an unkilled calibration round). After each kill
# Cascade is started again and the drill checks, in SQL and over HTTP:
#   - the cohort's certificates are all there or none is (nothing in between);
#   - the cohort's status agrees (completed with all of them, in progress with none);
#   - every issuer's serial numbers of a year are 1..N without a gap or a repeat;
#   - finalising again issues them all (none before) or nothing new (all before);
#   - a sample of PDFs (first and last serial, up to 5 whose digest the kill left unrecorded, and
#     SAMPLE random others; "no digest" counts the cohort's certificates without a recorded digest
#     just after the restart; "tx" says whether Cascade's writing transaction was open in
#     pg_stat_activity just before the kill) rendered afterwards match their recorded SHA-256 (`pdf_sha256`)
#     and pass `cascade verify` offline.
# Exits non-zero on any violation. Traffic to 127.0.0.1 only; everything lives in a mktemp -d
# folder and is stopped and removed on exit; every wait is bounded.
#
#   scripts/drills/kill9-finalise.sh                        # dev build
#   PROFILE=release scripts/drills/kill9-finalise.sh
#   SIZE=200 KILL_AT="50 150 300" scripts/drills/kill9-finalise.sh
#   BIN=path/to/cascade scripts/drills/kill9-finalise.sh    # a binary already built
set -euo pipefail
cd "$(dirname "$0")/../.."

PROFILE=${PROFILE:-dev}
SIZE=${SIZE:-1000}
KILL_AT=${KILL_AT:-"50 150 300 450 600 750 900 10% 25% 50% 90%"}
SAMPLE=${SAMPLE:-20}
PORT=${PORT:-18493}
FINALISE_TIMEOUT=${FINALISE_TIMEOUT:-600}
PASSWORD='mật-khẩu-diễn-tập-kill9-2026'
BASE="http://127.0.0.1:$PORT"

if [ -n "${BIN:-}" ]; then
    PROFILE="prebuilt $BIN"
else case "$PROFILE" in
    dev) cargo build --quiet --bin cascade; BIN=target/debug/cascade ;;
    release) cargo build --release --quiet --bin cascade; BIN=target/release/cascade ;;
    *) echo "PROFILE must be dev or release" >&2; exit 2 ;;
esac; fi
BIN=$(realpath "$BIN")
PGBIN=$(pg_config --bindir)
for tool in curl jq sha256sum "$PGBIN/psql" "$PGBIN/pg_ctl"; do
    command -v "$tool" >/dev/null || { echo "missing tool: $tool" >&2; exit 2; }
done

DATA=$(mktemp -d /tmp/cascade-kill9.XXXXXX)
chmod 755 "$DATA"
# a copy: a build in the shared tree during the drill must not change the binary between rounds
cp "$BIN" "$DATA/cascade"
BIN="$DATA/cascade"
export CASCADE_DATA_DIR="$DATA/data" CASCADE_BIND="127.0.0.1:$PORT" CASCADE_PUBLIC_URL="$BASE"
export RUST_LOG=${RUST_LOG:-warn}
unset DATABASE_URL
PGDATA_DIR="$CASCADE_DATA_DIR/postgres/pgdata"
SOCK="$CASCADE_DATA_DIR/postgres/run"
SERVER=""
as_postgres() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }
cleanup() {
    if [ -n "$SERVER" ]; then
        kill -TERM "$SERVER" 2>/dev/null || true
        for _ in $(seq 1 60); do kill -0 "$SERVER" 2>/dev/null || break; sleep 0.5; done
        kill -KILL "$SERVER" 2>/dev/null || true
        wait "$SERVER" 2>/dev/null || true
    fi
    # after a kill -9 Cascade no longer owns the cluster it adopted: stop it here
    if [ -f "$PGDATA_DIR/postmaster.pid" ]; then
        (cd / && as_postgres "$PGBIN/pg_ctl" stop -D "$PGDATA_DIR" -m fast -w -t 30 >/dev/null 2>&1) || true
    fi
    if [ -n "${KEEP_LOGS:-}" ]; then mkdir -p "$KEEP_LOGS"; cp "$DATA/serve.log" "$KEEP_LOGS/" 2>/dev/null || true; fi
    rm -rf "$DATA"
}
trap cleanup EXIT

sql() {
    "$PGBIN/psql" -X -q -At -v ON_ERROR_STOP=1 -h "$SOCK" -U postgres -d cascade -c "$1"
}

# api METHOD PATH [BODY]: the body in $DATA/answer.json, the status on stdout
api() {
    local args=(-s --max-time "$FINALISE_TIMEOUT" -o "$DATA/answer.json" -w '%{http_code}' -X "$1" "$BASE$2"
        -H "authorization: Bearer ${TOKEN:-}" -H 'content-type: application/json')
    [ $# -ge 3 ] && args+=(-d "$3")
    local code
    code=$(curl "${args[@]}") || true
    echo "${code:-000}"
}
must() {
    local status
    status=$(api "$@")
    case "$status" in 2??) ;; *) echo "$1 $2 answered $status: $(head -c 400 "$DATA/answer.json")" >&2; exit 1 ;; esac
}

now_ms() { date +%s%3N; }

# start_server: starts `cascade serve`, waits (at most 60 s) until /readyz answers; the time it
# took in READY_MS
start_server() {
    local t0
    t0=$(now_ms)
    "$BIN" serve >>"$DATA/serve.log" 2>&1 &
    SERVER=$!
    for _ in $(seq 1 240); do
        if curl -sf --max-time 2 "$BASE/readyz" >/dev/null; then READY_MS=$(( $(now_ms) - t0 )); return; fi
        kill -0 "$SERVER" 2>/dev/null || break
        sleep 0.25
    done
    echo "cascade did not become ready within 60 s:" >&2
    tail -n 20 "$DATA/serve.log" >&2
    exit 1
}

login() {
    must POST /api/v1/auth/login "{\"username\":\"quantri\",\"password\":\"$PASSWORD\"}"
    TOKEN=$(jq -r .access_token "$DATA/answer.json")
}

# --- set-up: the service, an administrator, a tier-1 course, an instructor ---------------------
start_server
START_MS=$READY_MS
printf '%s' "$PASSWORD" | "$BIN" create-admin --username quantri --full-name "Quản Trị Viên" \
    --organization BNV >/dev/null 2>"$DATA/admin.log" || { cat "$DATA/admin.log" >&2; exit 1; }
login
sql "UPDATE organizations SET signer_name = 'Nguyễn Văn Ký', signer_title = E'KT. BỘ TRƯỞNG\nTHỨ TRƯỞNG' WHERE code = 'BNV'"
BNV=$(sql "SELECT id FROM organizations WHERE code = 'BNV'")
UNIT=$(sql "SELECT id FROM organizations WHERE code = 'BHXH-HN'")
must POST /api/v1/courses '{"code": "GVN-K9", "title": "Bồi dưỡng giảng viên nguồn về BHXH",
    "tier": "master_trainer", "curriculum_version": "Luật BHXH 2024", "required_hours": 8,
    "min_attendance_percent": 70, "pass_score": 50, "certificate_validity_months": 24}'
COURSE=$(jq -r .id "$DATA/answer.json")
INSTRUCTOR=$(sql "INSERT INTO users (username, full_name, name_search, organization_id, category)
    VALUES ('giangvien.k9', 'Trần Văn Giảng', 'tran van giang', '$BNV', 'civil_servant') RETURNING id" | head -n1)
STARTS=$(date -u -d '-11 days' +%F)
ENDS=$(date -u -d '-10 days' +%F)

# cohort ROUND: a tier-1 cohort of SIZE people, all present at both sessions and scored; its id
cohort() {
    local round=$1 id s
    must POST /api/v1/cohorts "{\"course_id\": \"$COURSE\", \"organization_id\": \"$BNV\",
        \"title\": \"Lớp giảng viên nguồn (diễn tập kill -9, lượt $round)\", \"starts_on\": \"$STARTS\",
        \"ends_on\": \"$ENDS\", \"location\": \"Hà Nội\", \"mode\": \"in_person\", \"capacity\": $SIZE}"
    id=$(jq -r .id "$DATA/answer.json")
    must POST "/api/v1/cohorts/$id/instructors" "{\"user_id\": \"$INSTRUCTOR\"}"
    for day in "$STARTS" "$ENDS"; do
        must POST "/api/v1/cohorts/$id/sessions" "{\"starts_at\": \"${day}T08:00:00+07:00\",
            \"ends_at\": \"${day}T12:00:00+07:00\", \"topic\": \"Luật Bảo hiểm xã hội 2024\"}"
    done
    must PATCH "/api/v1/cohorts/$id" '{"status": "open"}'
    must PATCH "/api/v1/cohorts/$id" '{"status": "in_progress"}'
    sql "INSERT INTO users (username, full_name, name_search, date_of_birth, organization_id, category)
         SELECT 'hv.k9.$round.' || i, 'Nguyễn Thị Học Viên ' || i, 'nguyen thi hoc vien ' || i,
                date '1980-04-12' + (i % 7000), '$UNIT', 'civil_servant'
         FROM generate_series(1, $SIZE) AS i" >/dev/null
    sql "INSERT INTO enrollments (cohort_id, user_id, score)
         SELECT '$id', id, 80 FROM users WHERE username LIKE 'hv.k9.$round.%'" >/dev/null
    sql "INSERT INTO attendance (session_id, enrollment_id, present)
         SELECT s.id, e.id, true FROM sessions s JOIN enrollments e ON e.cohort_id = s.cohort_id
         WHERE s.cohort_id = '$id'" >/dev/null
    echo "$id"
}

VIOLATIONS=0
violation() { echo "VIOLATION: $*" >&2; VIOLATIONS=$((VIOLATIONS + 1)); }

# serials_gap_free: every (issuer, year) holds serial numbers 1..N exactly once
serials_gap_free() {
    local bad
    bad=$(sql "SELECT issuer_id || '/' || serial_year || ': ' || count(*) || ' certificates, ' ||
                      count(DISTINCT serial_number) || ' distinct, ' || min(serial_number) || '..' || max(serial_number)
               FROM certificates GROUP BY issuer_id, serial_year
               HAVING count(*) <> count(DISTINCT serial_number) OR min(serial_number) <> 1
                   OR max(serial_number) <> count(*)")
    [ -z "$bad" ] || { violation "serials with a gap or a repeat: $bad"; return 1; }
}

# check_pdfs COHORT: a sample rendered now against the recorded SHA-256; sets CHECKED, MATCHED
# and LATE (digests the kill left unrecorded, recorded at the download)
check_pdfs() {
    local cohort=$1 checked=0 matched=0 late=0 id before after got
    local ids
    ids=$(sql "(SELECT id FROM certificates WHERE cohort_id = '$cohort' ORDER BY serial_number LIMIT 1)
               UNION (SELECT id FROM certificates WHERE cohort_id = '$cohort' ORDER BY serial_number DESC LIMIT 1)
               UNION (SELECT id FROM certificates WHERE cohort_id = '$cohort' AND pdf_sha256 IS NULL LIMIT 5)
               UNION (SELECT id FROM certificates WHERE cohort_id = '$cohort' ORDER BY random() LIMIT $SAMPLE)")
    for id in $ids; do
        before=$(sql "SELECT coalesce(encode(pdf_sha256, 'hex'), '') FROM certificates WHERE id = '$id'")
        must GET "/api/v1/certificates/$id/pdf"
        got=$(sha256sum "$DATA/answer.json" | cut -d' ' -f1)
        after=$(sql "SELECT coalesce(encode(pdf_sha256, 'hex'), '') FROM certificates WHERE id = '$id'")
        checked=$((checked + 1))
        if [ -z "$before" ]; then
            # the kill came before the digest was recorded: the download records it; a second
            # rendering must give the same bytes
            late=$((late + 1))
            must GET "/api/v1/certificates/$id/pdf"
            [ "$(sha256sum "$DATA/answer.json" | cut -d' ' -f1)" = "$got" ] && [ "$after" = "$got" ] &&
                matched=$((matched + 1)) || violation "certificate $id: renderings differ ($got, recorded $after)"
        elif [ "$got" = "$before" ] && [ "$after" = "$before" ]; then
            matched=$((matched + 1))
        else
            violation "certificate $id: PDF SHA-256 $got, recorded $before"
        fi
        cp "$DATA/answer.json" "$DATA/certificate.pdf"
        "$BIN" verify "$DATA/certificate.pdf" >/dev/null 2>&1 || violation "certificate $id: cascade verify refused it"
    done
    CHECKED=$checked MATCHED=$matched LATE=$late
}

# --- calibration: one finalise without a kill -----------------------------------------------
C0=$(cohort 0)
T0=$(now_ms)
status=$(api POST "/api/v1/cohorts/$C0/finalize" '{}')
FINALISE_MS=$(( $(now_ms) - T0 ))
issued=$(jq '.issued | length' "$DATA/answer.json" 2>/dev/null || echo 0)
[ "$status" = 200 ] && [ "$issued" = "$SIZE" ] || violation "calibration finalise: $status, $issued issued"
serials_gap_free || true
check_pdfs "$C0"
ROWS=$(printf '%-6s %-9s %-6s %-9s %-11s %-12s %-9s %-12s %-12s %-10s %s\n' \
    "round" "kill at" "tx" "answered" "after kill" "status" "refinal." "PDFs ok/chk" "no digest" "restart" "digests back")
ROWS+=$(printf '\n%-6s %-9s %-6s %-9s %-11s %-12s %-9s %-12s %-12s %s' \
    0 "-" "-" "$status" "$SIZE/$SIZE" "$(sql "SELECT status FROM cohorts WHERE id = '$C0'")" "-" \
    "$MATCHED/$CHECKED" "$(sql "SELECT count(*) FROM certificates WHERE cohort_id = '$C0' AND pdf_sha256 IS NULL")" "-")

# --- the kills --------------------------------------------------------------------------------
round=0
for at in $KILL_AT; do
    round=$((round + 1))
    case "$at" in
        *%) delay=$(( FINALISE_MS * ${at%\%} / 100 )) ;;
        *) delay=$at ;;
    esac
    login
    C=$(cohort "$round")
    rm -f "$DATA/killed.json"
    curl -s --max-time "$FINALISE_TIMEOUT" -o "$DATA/killed.json" -w '%{http_code}' -X POST \
        "$BASE/api/v1/cohorts/$C/finalize" -H "authorization: Bearer $TOKEN" \
        -H 'content-type: application/json' -d '{}' >"$DATA/killed.status" 2>/dev/null &
    CLIENT=$!
    sleep "$(awk "BEGIN { printf \"%.3f\", $delay / 1000 }")"
    # where the kill lands: Cascade's writing transaction open (it has an xid) or not; this look
    # costs a few milliseconds, which the kill comes after
    intx=$(sql "SELECT CASE WHEN count(*) > 0 THEN 'open' ELSE 'none' END FROM pg_stat_activity
                WHERE datname = 'cascade' AND backend_xid IS NOT NULL AND pid <> pg_backend_pid()")
    kill -KILL "$SERVER"
    wait "$SERVER" 2>/dev/null || true
    SERVER=""
    wait "$CLIENT" 2>/dev/null || true
    answered=$(cat "$DATA/killed.status" 2>/dev/null || true)
    [ -n "$answered" ] && [ "$answered" != 000 ] || answered="none"

    start_server
    RESTART_MS=$READY_MS
    login
    n=$(sql "SELECT count(*) FROM certificates WHERE cohort_id = '$C'")
    undigested=$(sql "SELECT count(*) FROM certificates WHERE cohort_id = '$C' AND pdf_sha256 IS NULL")
    cstatus=$(sql "SELECT status FROM cohorts WHERE id = '$C'")
    after="$n/$SIZE"
    if [ "$n" = "$SIZE" ]; then
        [ "$cstatus" = completed ] || violation "round $round: all $n certificates but the cohort is $cstatus"
    elif [ "$n" = 0 ]; then
        [ "$cstatus" = in_progress ] || violation "round $round: no certificate but the cohort is $cstatus"
        [ "$answered" = none ] || violation "round $round: answered $answered yet nothing was issued"
    else
        violation "round $round: $n of $SIZE certificates after the kill"
    fi
    serials_gap_free || true
    # finalise again: everything (none before) or nothing new (all before)
    status=$(api POST "/api/v1/cohorts/$C/finalize" '{}')
    issued=$(jq '.issued | length' "$DATA/answer.json" 2>/dev/null || echo -1)
    already=$(jq '.already_issued' "$DATA/answer.json" 2>/dev/null || echo -1)
    if [ "$n" = 0 ]; then
        [ "$status" = 200 ] && [ "$issued" = "$SIZE" ] || violation "round $round: re-finalise gave $status, $issued issued"
        refinal="+$issued"
    else
        [ "$status" = 200 ] && [ "$issued" = 0 ] && [ "$already" = "$SIZE" ] ||
            violation "round $round: re-finalise gave $status, $issued issued, $already already"
        refinal="+$issued"
    fi
    m=$(sql "SELECT count(*) FROM certificates WHERE cohort_id = '$C'")
    [ "$m" = "$SIZE" ] || violation "round $round: $m certificates after re-finalising"
    [ "$(sql "SELECT status FROM cohorts WHERE id = '$C'")" = completed ] || violation "round $round: not completed after re-finalising"
    serials_gap_free || true
    check_pdfs "$C"
    # the restarted server records the digests the kill left unrecorded by itself (at start, in
    # the background): wait for it, at most 120 s
    backfill="-"
    if [ "$undigested" != 0 ]; then
        t0=$(date +%s%N)
        for _ in $(seq 1 1200); do
            [ "$(sql "SELECT count(*) FROM certificates WHERE cohort_id = '$C' AND pdf_sha256 IS NULL")" = 0 ] && break
            sleep 0.1
        done
        left=$(sql "SELECT count(*) FROM certificates WHERE cohort_id = '$C' AND pdf_sha256 IS NULL")
        if [ "$left" = 0 ]; then
            backfill="$(( ($(date +%s%N) - t0) / 1000000 )) ms"
        else
            violation "round $round: $left digests still unrecorded 120 s after the restart"
            backfill="$left left"
        fi
    fi
    ROWS+=$(printf '\n%-6s %-9s %-6s %-9s %-11s %-12s %-9s %-12s %-12s %-10s %s' \
        "$round" "${delay} ms" "$intx" "$answered" "$after" "$cstatus" "$refinal" "$MATCHED/$CHECKED" "$undigested" "${RESTART_MS} ms" "$backfill")
    echo "round $round: killed at $delay ms (transaction $intx), answered $answered, $after after the kill, cohort $cstatus" >&2
done

if grep -q "panicked" "$DATA/serve.log"; then
    violation "the server panicked:"
    grep -m5 "panicked" "$DATA/serve.log" >&2
fi
TOTAL=$(sql "SELECT count(*) FROM certificates WHERE cohort_id IS NOT NULL")
RANGES=$(sql "SELECT string_agg(o.code || ' ' || c.serial_year || ': 1..' || c.n, ', ')
              FROM (SELECT issuer_id, serial_year, max(serial_number) AS n FROM certificates
                    GROUP BY issuer_id, serial_year) c JOIN organizations o ON o.id = c.issuer_id")

echo
echo "kill -9 during finalise drill ($(date -u +%FT%TZ), profile $PROFILE, $(nproc) cores, cohort of $SIZE)"
echo "first start ${START_MS} ms; unkilled finalise ${FINALISE_MS} ms; $TOTAL certificates issued in all; serials $RANGES"
echo "$ROWS"
echo "violations: $VIOLATIONS"
[ "$VIOLATIONS" -eq 0 ]
