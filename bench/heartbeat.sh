#!/usr/bin/env bash
# Heartbeat throughput and latency: `harness server` on SQLite and on a private PostgreSQL,
# AGENTS registered agents each posting DEVICES devices, driven by wrk over loopback.
# Writes the figures to docs/benchmarks.md (section "Heartbeats").
# Usage: bench/heartbeat.sh [duration_s=20] [connections=16] [agents=50] [devices=20]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=../scripts/lib/postgres.sh
source scripts/lib/postgres.sh
# shellcheck source=lib.sh
source bench/lib.sh
duration=${1:-20}; connections=${2:-16}; agents=${3:-50}; devices=${4:-20}

ensure_wrk
ensure_postgres
work=$(mktemp -d /tmp/harness-bench.XXXXXX)
server_pid=
cleanup() {
  [ -n "$server_pid" ] && kill "$server_pid" 2>/dev/null && wait "$server_pid" 2>/dev/null || true
  stop_private_postgres
  rm -rf "$work"
}
trap cleanup EXIT

echo "==> Building"
dotnet build src/Harness.Cli/Harness.Cli.csproj -c Release -o "$work/bin" --nologo -v quiet >/dev/null
start_private_postgres
admin="bench-admin-token-$(date +%s)-0123456789"

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<"$2"; }

run_provider() {
  local provider=$1 url=$2 port
  port=$(free_port)
  HARNESS_ADMIN_TOKEN=$admin HARNESS_DATABASE_PROVIDER=$provider HARNESS_DATABASE_URL=$url \
    dotnet "$work/bin/harness.dll" server --urls "http://127.0.0.1:$port" >"$work/server-$provider.log" 2>&1 &
  server_pid=$!
  for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health" >/dev/null && break; sleep 0.5; done
  : >"$work/keys.txt"
  for i in $(seq 1 "$agents"); do
    curl -fs -X POST -H "Authorization: Bearer $admin" -H 'Content-Type: application/json' \
      -d "{\"name\":\"BENCH-$i\"}" "http://127.0.0.1:$port/api/agents" |
      sed -n 's/.*"api_key":"\([^"]*\)".*/\1\n/p' | head -n 1 >>"$work/keys.txt"
  done
  [ "$(wc -l <"$work/keys.txt")" -eq "$agents" ] || { echo "registering agents failed" >&2; cat "$work/server-$provider.log" >&2; exit 1; }
  # Warm-up: the first heartbeat of each agent inserts its devices; the measured ones update them.
  BENCH_KEYS=$work/keys.txt BENCH_DEVICES=$devices wrk -t2 -c"$connections" -d5s -s bench/heartbeat.lua "http://127.0.0.1:$port" >/dev/null
  local rss_before; rss_before=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")
  BENCH_KEYS=$work/keys.txt BENCH_DEVICES=$devices wrk -t2 -c"$connections" -d"${duration}s" --latency -s bench/heartbeat.lua "http://127.0.0.1:$port" >"$work/wrk-$provider.txt"
  local rss_after; rss_after=$(awk '/VmRSS/ {print $2}' "/proc/$server_pid/status")
  kill "$server_pid"; wait "$server_pid" 2>/dev/null || true; server_pid=
  local result; result=$(grep '^RESULT' "$work/wrk-$provider.txt")
  if [ "$(field non2xx "$result")" != 0 ]; then echo "heartbeats were refused: $result" >&2; exit 1; fi
  echo "$provider $result rss_mib=$((rss_after / 1024))" | tee -a "$work/results.txt"
}

run_provider sqlite "Data Source=$work/bench.db"
pg_db="harness_bench"
"${PG_RUN[@]}" "$PG_TEST_BIN/psql" -h "$PG_TEST_DIR" -p "$(sed 's/.*Port=\([0-9]*\).*/\1/' <<<"$HARNESS_TEST_POSTGRES")" -U postgres -qc "CREATE DATABASE $pg_db" >/dev/null
run_provider postgres "${HARNESS_TEST_POSTGRES/Database=postgres/Database=$pg_db}"

cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
{
  echo "## Heartbeats"
  echo
  echo "\`POST /api/nodes/heartbeat\` from $agents agents with $devices devices each, the same inventory every time,"
  echo "driven by wrk with $connections connections for ${duration} s after a 5 s warm-up; server and wrk on one machine."
  echo "Every request reads the agent's row. Its $devices device rows are read only when the inventory differs from the"
  echo "agent's last steady one, when one of them is due for a last_seen rewrite, or when a device changed through the"
  echo "server since; the agent's row, its worker_heartbeats row and the devices' last_seen are written when older than"
  echo "a third of the online window (10 s). At this rate each agent heartbeats several times a second, so most"
  echo "requests read the agent's row and nothing else. A real agent heartbeats every 5 to 10 s: at 5 s every other"
  echo "heartbeat reads and writes its devices, at 10 s nearly every one."
  echo
  echo "- Machine: $(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version)"
  echo "- Command: \`bench/heartbeat.sh $duration $connections $agents $devices\`"
  echo "- Date: $(date -u +%Y-%m-%d)"
  echo
  echo "| storage | heartbeats/s | p50 ms | p90 ms | p99 ms | max ms | errors | server RSS MiB |"
  echo "|---|---|---|---|---|---|---|---|"
  while read -r line; do
    provider=${line%% *}
    echo "| $provider | $(field rps "$line") | $(field p50_ms "$line") | $(field p90_ms "$line") | $(field p99_ms "$line") | $(field max_ms "$line") | $(( $(field errors "$line") + $(field non2xx "$line") )) | $(field rss_mib "$line") |"
  done <"$work/results.txt"
  echo
  echo "For scale: a farm of 50 PCs heartbeating every 10 s sends 5 heartbeats/s."
  echo "No peer is named for this path; the peer comparisons (issue: benchmarks) live in their own sections."
} >"$work/section.md"

doc=docs/benchmarks.md
if [ ! -f "$doc" ]; then
  printf '# Benchmarks\n\nEvery figure here was produced by a script in `bench/`; rerun it to refresh its section.\n\n' >"$doc"
fi
# Replace this script's section (from its heading to the next "## ") and keep the others.
awk -v section="$work/section.md" '
  /^## Heartbeats$/ { while ((getline line < section) > 0) print line; skip = 1; next }
  skip && /^## / { skip = 0; print ""; }
  !skip { print }
' "$doc" >"$work/doc.md"
grep -q '^## Heartbeats$' "$doc" || cat "$work/section.md" >>"$work/doc.md"
cp "$work/doc.md" "$doc"
echo "==> Wrote $doc"
