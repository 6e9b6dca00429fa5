#!/usr/bin/env bash
# Where a drain's time goes: the drain of bench/throughput.sh (TASKS device tasks, AGENTS simulated
# agents holding SLOTS tasks each, real HTTP pull/lease/callback path) on a private PostgreSQL with
# pg_stat_statements, then
#   - CPU seconds of the server, of PostgreSQL (every backend) and of the load tool, against the wall time;
#   - the TOP statements by total time (calls, total ms, mean ms, rows), lock waits included: a statement
#     that waits for a row or advisory lock counts its wait.
# Prints to stdout; writes no docs. A diagnostic for the "Drain" section of docs/benchmarks.md.
# Usage: bench/drain-profile.sh            (TASKS=4000 AGENTS=32 SLOTS=8 TOP=15)
#        MODE=ingest bench/drain-profile.sh (SENDERS=8 EVENTS=10000 DUP=0.2: the callback ingest instead)
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=../scripts/lib/postgres.sh
source scripts/lib/postgres.sh
# shellcheck source=lib.sh
source bench/lib.sh
tasks=${TASKS:-4000}; agents=${AGENTS:-32}; slots=${SLOTS:-8}; top=${TOP:-15}; mode=${MODE:-drain}
senders=${SENDERS:-8}; events=${EVENTS:-10000}; dup=${DUP:-0.2}

ensure_postgres
bench_workdir drain-profile
echo "==> Building Harness and the load tool"
dotnet build src/Harness.Cli/Harness.Cli.csproj -c Release -o "$work/bin" --nologo -v quiet >/dev/null
dotnet build bench/Harness.Bench/Harness.Bench.csproj -c Release -o "$work/bench" --nologo -v quiet >/dev/null

start_private_postgres
pg_port=$(sed 's/.*Port=\([0-9]*\).*/\1/' <<<"$HARNESS_TEST_POSTGRES")
psql() { "${PG_RUN[@]}" "$PG_TEST_BIN/psql" -h "$PG_TEST_DIR" -p "$pg_port" -U postgres -qAtX -v ON_ERROR_STOP=1 "$@"; }
psql -c "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'"
"${PG_RUN[@]}" "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -w -t 60 restart >/dev/null
psql -c "CREATE DATABASE harness_drain"
psql -d harness_drain -c "CREATE EXTENSION pg_stat_statements"
conn="${HARNESS_TEST_POSTGRES/Database=postgres/Database=harness_drain}"
conn="${conn/Maximum Pool Size=20/Maximum Pool Size=64}"

bench_start_server "$conn"

# CPU seconds (user + system) of a process; with "all", its reaped children's too.
cpu_s() { awk -v hz="$(getconf CLK_TCK)" -v all="${2:-}" '{ sub(/.*\) /, ""); split($0, f, " "); print (f[12] + f[13] + (all ? f[14] + f[15] : 0)) / hz }' "/proc/$1/stat"; }
# The private cluster: the postmaster with the backends that have ended, and every live backend.
pg_cpu_s() {
  local pm pid total
  pm=$(head -n 1 "$PG_TEST_DIR/data/postmaster.pid")
  total=$(cpu_s "$pm" all)
  for pid in $(pgrep -P "$pm" || true); do
    total=$(awk -v t="$total" -v c="$(cpu_s "$pid" 2>/dev/null || echo 0)" 'BEGIN { print t + c }')
  done
  echo "$total"
}

if [ "$mode" = ingest ]; then
  echo "==> Ingest: $events callbacks from $senders senders, $dup of them duplicates"
  load=(ingest --senders "$senders" --events "$events" --dup "$dup")
else
  echo "==> Drain: $tasks tasks, $agents agents × $slots slots"
  load=(drain --agents "$agents" --tasks "$tasks" --slots "$slots")
fi
psql -d harness_drain -c "SELECT pg_stat_statements_reset()" >/dev/null
# The load tool's CPU: this shell's "times" for its waited-for children, before and after (run in this
# shell, not a subshell: a subshell starts with none).
children_cpu_s() { tail -n 1 "$1" | awk '{ t = 0; for (i = 1; i <= 2; i++) { sub(/s$/, "", $i); split($i, p, "m"); t += p[1] * 60 + p[2] } print t }'; }
server0=$(cpu_s "$server_pid"); pg0=$(pg_cpu_s); times >"$work/times0"; start=$(date +%s.%N)
dotnet "$work/bench/Harness.Bench.dll" "${load[@]}" --tag p \
  --url "http://127.0.0.1:$port" --admin "$admin" --secret "$secret" --pg "$conn"
wall=$(awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }')
times >"$work/times1"
tool=$(awk -v a="$(children_cpu_s "$work/times0")" -v b="$(children_cpu_s "$work/times1")" 'BEGIN { printf "%.1f", b - a }')
server=$(awk -v a="$server0" -v b="$(cpu_s "$server_pid")" 'BEGIN { printf "%.1f", b - a }')
pg=$(awk -v a="$pg0" -v b="$(pg_cpu_s)" 'BEGIN { printf "%.1f", b - a }')
echo "cpu wall_s=$wall server_cpu_s=$server postgres_cpu_s=$pg tool_cpu_s=$tool cores=$(nproc)"
echo "(setup included: enrolling the agents, their devices and the runs)"
echo
echo "==> Top $top statements by total time (lock waits included)"
echo "calls | total ms | mean ms | rows | statement"
psql -d harness_drain -c "SELECT calls || ' | ' || round(total_exec_time) || ' | ' || round(mean_exec_time::numeric, 3) || ' | ' || rows || ' | ' ||
    left(regexp_replace(query, '\s+', ' ', 'g'), 140)
  FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid
  WHERE d.datname = 'harness_drain' AND query NOT LIKE '%pg_stat_statements%'
  ORDER BY total_exec_time DESC LIMIT $top"
