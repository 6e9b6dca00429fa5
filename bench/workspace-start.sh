#!/usr/bin/env bash
# Workspace start through Harness (server on PostgreSQL → Runtime Agent API → Docker runtime) against a
# plain `docker run -d` of the same image on the same private engine. Writes docs/benchmarks.md
# (section "Workspace start"). Usage: bench/workspace-start.sh [rounds=15]
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=../scripts/lib/postgres.sh
source scripts/lib/postgres.sh
# shellcheck source=../scripts/lib/docker.sh
source scripts/lib/docker.sh
# shellcheck source=lib.sh
source bench/lib.sh
rounds=${1:-15}

ensure_postgres
ensure_docker
bench_workdir bench

echo "==> Building"
dotnet build src/Harness.Cli/Harness.Cli.csproj -c Release -o "$work/bin" --nologo -v quiet >/dev/null
start_private_postgres
start_private_dockerd
build_test_images
pg_db="harness_workspaces"
"${PG_RUN[@]}" "$PG_TEST_BIN/psql" -h "$PG_TEST_DIR" -p "$(sed 's/.*Port=\([0-9]*\).*/\1/' <<<"$HARNESS_TEST_POSTGRES")" -U postgres -qc "CREATE DATABASE $pg_db" >/dev/null
admin="bench-admin-token-$(date +%s)-0123456789"
secret="bench-fleet-secret-$(date +%s)-0123456789"
port=$(free_port); runtime_port=$(free_port)

HARNESS_ADMIN_TOKEN=$admin NODE_AGENT_SHARED_SECRET=$secret HARNESS_DATABASE_PROVIDER=postgres \
  HARNESS_DATABASE_URL="${HARNESS_TEST_POSTGRES/Database=postgres/Database=$pg_db}" HARNESS_ARTIFACTS_DIR="$work/artifacts" \
  dotnet "$work/bin/harness.dll" server --urls "http://127.0.0.1:$port" >"$work/server.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && break; sleep 0.5; done
# The engine has no bridge here (loopback only), so instances use host networking on 127.0.0.1.
HARNESS_SERVER_URL="http://127.0.0.1:$port" HARNESS_AGENT_NAME=docker-bench HARNESS_AGENT_STATE_DIR="$work/agent" \
  NODE_AGENT_SHARED_SECRET=$secret HARNESS_WORKSPACE_RUNTIME=docker HARNESS_RUNTIME_LISTEN="http://127.0.0.1:$runtime_port" \
  Agent__Workspaces__Docker__Endpoint="$HARNESS_TEST_DOCKER_HOST" Agent__Workspaces__Docker__NetworkMode=Host \
  Agent__HeartbeatIntervalSec=1 dotnet "$work/bin/harness.dll" agent >"$work/agent.log" 2>&1 &
pids+=($!)
for _ in $(seq 1 120); do
  curl -fs -H "Authorization: Bearer $admin" "http://127.0.0.1:$port/api/agents/docker-bench" | grep -q '"endpoint"' && break
  sleep 0.5
done
sleep 2 # a second heartbeat: the agent holds its runtime key

python3 bench/workspace_start.py "http://127.0.0.1:$port" "$admin" "${HARNESS_TEST_DOCKER_HOST#unix://}" "$rounds" "$HARNESS_TEST_HTTP_IMAGE" | tee "$work/results.txt"

field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
start=$(grep '^start' "$work/results.txt")
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
engine_version=$(docker -H "$HARNESS_TEST_DOCKER_HOST" version --format '{{.Server.Version}}')
{
  echo "## Workspace start"
  echo
  echo "Starting a stopped workspace through Harness — \`POST /api/workspaces/{id}/start\` on \`harness server\`"
  echo "(PostgreSQL) → the agent's Runtime Agent API → the Docker runtime → the engine, returning once the"
  echo "instance's port accepts connections — against a plain \`docker run -d\` (create + start through the Engine"
  echo "API) of the same image, volume, limits and host networking on the same engine, waiting for its port the"
  echo "same way (polled every 5 ms, Harness's runtime polls every 20 ms). Rounds alternate; the first is a warm-up."
  echo
  echo "- Machine: $(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version), Docker Engine $engine_version (vfs storage, no bridge)"
  echo "- Command: \`bench/workspace-start.sh $rounds\`"
  echo "- Date: $(date -u +%Y-%m-%d)"
  echo "- Image: \`$HARNESS_TEST_HTTP_IMAGE\` (busybox httpd, imported from busybox-static)"
  echo
  echo "| path | median ms | min ms | max ms |"
  echo "|---|---|---|---|"
  echo "| Harness: server → agent → Docker | $(field harness_p50_ms "$start") | $(field harness_min_ms "$start") | $(field harness_max_ms "$start") |"
  echo "| plain \`docker run -d\` | $(field plain_p50_ms "$start") | $(field plain_min_ms "$start") | $(field plain_max_ms "$start") |"
  echo
  echo "**Median ratio Harness / plain: $(field ratio "$start")** (median of the per-round ratios: $(field paired_ratio_p50 "$start")); target ≤ 1.15."
} >"$work/section.md"

doc=docs/benchmarks.md
awk -v section="$work/section.md" '
  /^## Workspace start$/ { while ((getline line < section) > 0) print line; skip = 1; next }
  skip && /^## / { skip = 0; print ""; }
  !skip { print }
' "$doc" >"$work/doc.md"
grep -q '^## Workspace start$' "$doc" || { echo >>"$work/doc.md"; cat "$work/section.md" >>"$work/doc.md"; }
cp "$work/doc.md" "$doc"
echo "==> Wrote $doc"
