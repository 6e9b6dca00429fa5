#!/usr/bin/env bash
# Throughput against the database's ceiling and against peers, all on one private PostgreSQL:
#  - Ceiling: pgbench custom scripts at 1, 8 and 32 clients — a single-row INSERT … ON CONFLICT DO
#    NOTHING into a table shaped like callback_events, and a SKIP LOCKED claim of one queued row
#    plus its update;
#  - Drain: TASKS device tasks through `harness server`'s real HTTP pull/lease/callback path by 32
#    simulated agents (bench/Harness.Bench), against Hangfire on Hangfire.PostgreSql
#    (bench/peers/hangfire) and graphile-worker (bench/peers/graphile-worker), TASKS no-op jobs
#    each with 32 workers, and against the HTTP floor (`Harness.Bench floor-server`: the same routes,
#    each request one statement) and its grouped form (--group yes: the requests waiting at once share one
#    statement, a group commit), driven by the same load tool; the order rotates every round; database
#    commits per Harness task from pg_stat_database.xact_commit;
#  - Callback ingest: unbatched callbacks with 20% duplicate event_ids at 1, 8 and 32 concurrent
#    senders, against the ceiling's insert rate; then exactly one row per event_id is checked in SQL.
#    Beside it the HTTP floor, which only parses each callback and inserts its event_id, driven by the
#    same load tool and by wrk (bench/ingest-floor.lua), per request and grouped.
# Writes the sections "Ceiling", "Drain" and "Callback ingest" of docs/benchmarks.md and the plots
# docs/images/bench-{ceiling,drain,ingest}.png. Medians of ROUNDS rounds.
# Usage: bench/throughput.sh          (full: TASKS=50000 ROUNDS=3)
#        TASKS=5000 ROUNDS=1 PGBENCH_SECONDS=3 INGEST_EVENTS=2000 bench/throughput.sh   (quick)
# Other knobs: AGENTS=32 SLOTS=8 (tasks an agent holds at once) WORKERS=32 (peers' workers),
# HANGFIRE_JOBS=TASKS (Hangfire enqueues and drains ~100/s on a loaded 2-core machine; its rate is per job).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=../scripts/lib/postgres.sh
source scripts/lib/postgres.sh
# shellcheck source=lib.sh
source bench/lib.sh
tasks=${TASKS:-50000}; hangfire_jobs=${HANGFIRE_JOBS:-$tasks}; rounds=${ROUNDS:-3}; agents=${AGENTS:-32}; slots=${SLOTS:-8}; workers=${WORKERS:-32}
pgbench_seconds=${PGBENCH_SECONDS:-10}; ingest_events=${INGEST_EVENTS:-10000}
clients=(1 8 32)

ensure_postgres
ensure_gnuplot
ensure_wrk
bench_workdir throughput

echo "==> Building Harness, the load tool and the Hangfire peer; npm ci for graphile-worker"
# PREBUILT=dir (with bin/, bench/ and hangfire/ from an earlier build) skips the builds while iterating.
build() { if [ -n "${PREBUILT:-}" ]; then ln -s "$PREBUILT/$2" "$work/$2"; else dotnet build "$1" -c Release -o "$work/$2" --nologo -v quiet >/dev/null; fi; }
build src/Harness.Cli/Harness.Cli.csproj bin
build bench/Harness.Bench/Harness.Bench.csproj bench
build bench/peers/hangfire/HangfirePeer.csproj hangfire
(cd bench/peers/graphile-worker && npm ci --no-audit --no-fund --loglevel=error >/dev/null)

start_private_postgres
pg_port=$(sed 's/.*Port=\([0-9]*\).*/\1/' <<<"$HARNESS_TEST_POSTGRES")
pg_version=$("$PG_TEST_BIN/postgres" --version | awk '{print $3}')
psql() { "${PG_RUN[@]}" "$PG_TEST_BIN/psql" -h "$PG_TEST_DIR" -p "$pg_port" -U postgres -qAtX -v ON_ERROR_STOP=1 "$@"; }
pgbench() { "${PG_RUN[@]}" "$PG_TEST_BIN/pgbench" -h "$PG_TEST_DIR" -p "$pg_port" -U postgres "$@"; }
conn() { local c=${HARNESS_TEST_POSTGRES/Database=postgres/Database=$1}; echo "${c/Maximum Pool Size=20/Maximum Pool Size=64}"; }
results="$work/results.txt"; : >"$results"

echo "==> Ceiling: pgbench at ${clients[*]} clients, ${pgbench_seconds} s each, $rounds round(s)"
psql -c "CREATE DATABASE bench_ceiling"
psql -d bench_ceiling <<'SQL'
CREATE TABLE events (event_id varchar(128) PRIMARY KEY, agent_id uuid NOT NULL, type varchar(32) NOT NULL,
  run_id uuid, device_id varchar(128), received_at timestamptz NOT NULL);
CREATE TABLE queue (id bigserial PRIMARY KEY, status text NOT NULL, locked_by int, updated_at timestamptz NOT NULL DEFAULT now());
CREATE INDEX queue_queued ON queue (id) WHERE status = 'queued';
SQL
cat >"$work/insert.sql" <<'SQL'
INSERT INTO events VALUES (md5(random()::text || clock_timestamp()::text), gen_random_uuid(), 'step', gen_random_uuid(), 'bench-dev', now()) ON CONFLICT DO NOTHING;
SQL
cat >"$work/claim.sql" <<'SQL'
WITH c AS (SELECT id FROM queue WHERE status = 'queued' ORDER BY id LIMIT 1 FOR UPDATE SKIP LOCKED)
UPDATE queue q SET status = 'done', locked_by = :client_id, updated_at = now() FROM c WHERE q.id = c.id;
SQL
chmod 644 "$work"/*.sql; chmod 755 "$work"
for round in $(seq 1 "$rounds"); do
  order=("${clients[@]}"); (( round % 2 == 0 )) && order=(32 8 1)
  for c in "${order[@]}"; do
    psql -d bench_ceiling -c "TRUNCATE events, queue" -c "INSERT INTO queue (status) SELECT 'queued' FROM generate_series(1, 1000000)" -c "VACUUM ANALYZE queue"
    for script in insert claim; do
      tps=$(pgbench -n -M prepared -c "$c" -j "$(( c < 2 ? c : 2 ))" -T "$pgbench_seconds" -f "$work/$script.sql" bench_ceiling 2>&1 \
        | sed -n 's/^tps = \([0-9.]*\) .*/\1/p')
      echo "ceiling round=$round script=$script clients=$c tps=$tps" | tee -a "$results"
    done
  done
done

echo "==> Drain: $tasks tasks, Harness ($agents agents × $slots slots) vs the HTTP floor, Hangfire and graphile-worker ($workers workers), $rounds round(s)"
psql -c "CREATE DATABASE harness_drain"
bench_start_server "$(conn harness_drain)"
# The HTTP floor (Harness.Bench floor-server): Harness's routes and contracts, each request one statement.
psql -c "CREATE DATABASE bench_floor"
floor_port=$(free_port)
dotnet "$work/bench/Harness.Bench.dll" floor-server --url "http://127.0.0.1:$floor_port" --pg "$(conn bench_floor)" >"$work/floor.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do curl -s -o /dev/null "http://127.0.0.1:$floor_port/" && break; sleep 0.5; done
# The grouped floor (--group yes): the same, but the requests waiting at once share one statement (a group commit).
psql -c "CREATE DATABASE bench_floor_group"
group_port=$(free_port)
dotnet "$work/bench/Harness.Bench.dll" floor-server --group yes --url "http://127.0.0.1:$group_port" --pg "$(conn bench_floor_group)" >"$work/floor-group.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 60); do curl -s -o /dev/null "http://127.0.0.1:$group_port/" && break; sleep 0.5; done
floor_tool() { dotnet "$work/bench/Harness.Bench.dll" "$1" --floor yes --url "http://127.0.0.1:$floor_port" --pg "$(conn bench_floor)" "${@:2}"; }
group_tool() { dotnet "$work/bench/Harness.Bench.dll" "$1" --floor yes --url "http://127.0.0.1:$group_port" --pg "$(conn bench_floor_group)" "${@:2}"; }
floor_tool drain --agents "$agents" --tasks 2000 --slots "$slots" --tag warm >/dev/null # JIT and pools, as enrolment warms Harness
group_tool drain --agents "$agents" --tasks 2000 --slots "$slots" --tag warm >/dev/null
bench_tool() { dotnet "$work/bench/Harness.Bench.dll" "$@" --url "http://127.0.0.1:$port" --admin "$admin" --secret "$secret" --pg "$(conn harness_drain)"; }
run_harness() { bench_tool drain --agents "$agents" --tasks "$tasks" --slots "$slots" --tag "d$1"; }
run_floor() { floor_tool drain --agents "$agents" --tasks "$tasks" --slots "$slots" --tag "d$1"; }
run_floor_group() { group_tool drain --agents "$agents" --tasks "$tasks" --slots "$slots" --tag "d$1"; }
run_hangfire() { psql -c "CREATE DATABASE bench_hangfire_$1"; dotnet "$work/hangfire/HangfirePeer.dll" "$(conn "bench_hangfire_$1")" "$hangfire_jobs" "$workers"; }
run_graphile() {
  psql -c "CREATE DATABASE bench_graphile_$1"
  node bench/peers/graphile-worker/drain.js "postgres://postgres@127.0.0.1:$pg_port/bench_graphile_$1" "$tasks" "$workers"
}
systems=(harness floor floor-group hangfire graphile)
for round in $(seq 1 "$rounds"); do
  for i in 0 1 2 3 4; do
    system=${systems[$(( (i + round - 1) % 5 ))]}
    line=$("run_${system//-/_}" "$round" | tail -n 1)
    echo "drain round=$round system=$system $line" | tee -a "$results"
  done
done

echo "==> Callback ingest: $ingest_events callbacks (20% duplicate event_ids) at ${clients[*]} senders, $rounds round(s),"
echo "    to Harness and to the HTTP floor (Harness.Bench floor-server: parse, one insert; driven by the load tool and by wrk)"
server_rss=$(awk '/VmRSS/ {print int($2 / 1024)}' "/proc/$server_pid/status")
# wrk sends for as long as the load tool's floor run took at that concurrency, so both floors see similar counts.
floor_wrk() { FLOOR_TAG="w$2-$1" wrk -t "$(( $1 < 2 ? 1 : 2 ))" -c "$1" -d "$3" -s bench/ingest-floor.lua "http://127.0.0.1:${4:-$floor_port}" | sed -n 's/^RESULT //p'; }
floor_wrk 8 0 2s >/dev/null # its Lua and the floor's insert warmed
floor_wrk 8 0 2s "$group_port" >/dev/null
for round in $(seq 1 "$rounds"); do
  order=("${clients[@]}"); (( round % 2 == 0 )) && order=(32 8 1)
  for c in "${order[@]}"; do
    line=$(bench_tool ingest --senders "$c" --events "$ingest_events" --dup 0.2 --tag "i$round-$c" | tail -n 1)
    echo "ingest round=$round clients=$c system=harness $line" | tee -a "$results"
    line=$(floor_tool ingest --senders "$c" --events "$ingest_events" --dup 0.2 --tag "f$round-$c" | tail -n 1)
    echo "ingest round=$round clients=$c system=floor $line" | tee -a "$results"
    wall=$(sed 's/.*wall_s=\([0-9.]*\).*/\1/' <<<"$line")
    line=$(floor_wrk "$c" "$round" "$(awk -v w="$wall" 'BEGIN { printf "%ds", w < 5 ? 5 : w + 0.5 }')")
    echo "ingest round=$round clients=$c system=floor-wrk $line" | tee -a "$results"
    line=$(group_tool ingest --senders "$c" --events "$ingest_events" --dup 0.2 --tag "g$round-$c" | tail -n 1)
    echo "ingest round=$round clients=$c system=floor-group $line" | tee -a "$results"
    line=$(floor_wrk "$c" "g$round" "$(awk -v w="$wall" 'BEGIN { printf "%ds", w < 5 ? 5 : w + 0.5 }')" "$group_port")
    echo "ingest round=$round clients=$c system=floor-group-wrk $line" | tee -a "$results"
  done
done

echo "==> Writing docs/benchmarks.md and docs/images/bench-*.png"
mkdir -p docs/images
python3 bench/throughput_report.py "$results" "$work" \
  --machine "$(nproc) cores ($(lscpu | sed -n 's/^Model name: *//p' | head -n 1)), $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version), PostgreSQL $pg_version (private cluster: fsync, synchronous_commit and full_page_writes off)" \
  --command "$( [ "$tasks $hangfire_jobs $rounds $pgbench_seconds $ingest_events" = "50000 50000 3 10 10000" ] || echo "TASKS=$tasks HANGFIRE_JOBS=$hangfire_jobs ROUNDS=$rounds PGBENCH_SECONDS=$pgbench_seconds INGEST_EVENTS=$ingest_events ")bench/throughput.sh" \
  --date "$(date -u +%Y-%m-%d)" --tasks "$tasks" --hangfire-jobs "$hangfire_jobs" --rounds "$rounds" --agents "$agents" --slots "$slots" --workers "$workers" \
  --pgbench-seconds "$pgbench_seconds" --ingest-events "$ingest_events" --server-rss "$server_rss"
for section in "Ceiling" "Drain" "Callback ingest"; do
  doc=docs/benchmarks.md
  file="$work/section-${section// /-}.md"
  awk -v section="$file" -v title="## $section" '
    $0 == title { while ((getline line < section) > 0) print line; skip = 1; next }
    skip && /^## / { skip = 0; print ""; }
    !skip { print }
  ' "$doc" >"$work/doc.md"
  grep -qxF "## $section" "$doc" || { echo >>"$work/doc.md"; cat "$file" >>"$work/doc.md"; }
  cp "$work/doc.md" "$doc"
done
for plot in "$work"/*.gp; do gnuplot "$plot"; done
echo "==> Wrote docs/benchmarks.md; raw results:"
cat "$results"
