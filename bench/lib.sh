# Setup the bench scripts share; source it after scripts/lib/postgres.sh (and scripts/lib/docker.sh
# when the script starts a Docker engine).
#   bench_workdir NAME  makes "$work" (a temp folder) and "pids" (the processes the script starts,
#                       each stopped by its pid at exit, before the private engines it started)
#   ensure_gnuplot      installs gnuplot-nox for the plots when it is missing
#   ensure_wrk          installs wrk (HTTP load) when it is missing
#   bench_start_server CONNECTION [NAME=VALUE...]
#                       starts `harness server` from "$work/bin" on PostgreSQL at a free loopback port
#                       (extra environment after the connection string), logging to "$work/server.log";
#                       sets admin, secret, port and server_pid, and returns once it is ready

bench_workdir() {
  work=$(mktemp -d "/tmp/harness-$1.XXXXXX")
  pids=()
  trap bench_cleanup EXIT
}

bench_cleanup() {
  local pid
  for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true; done
  if declare -F stop_private_dockerd >/dev/null; then stop_private_dockerd; fi
  stop_private_postgres
  rm -rf "$work"
}

ensure_gnuplot() {
  command -v gnuplot >/dev/null && return 0
  echo "==> Installing gnuplot-nox"
  as_root apt-get install -y -qq gnuplot-nox >/dev/null 2>&1 || { as_root apt-get update -qq && as_root apt-get install -y -qq gnuplot-nox >/dev/null; }
}

ensure_wrk() {
  command -v wrk >/dev/null && return 0
  echo "==> Installing wrk"
  as_root apt-get install -y -qq wrk >/dev/null 2>&1 || { as_root apt-get update -qq && as_root apt-get install -y -qq wrk >/dev/null; }
}

bench_start_server() {
  admin="bench-admin-token-$(date +%s)-0123456789"
  secret="bench-fleet-secret-$(date +%s)-0123456789"
  port=$(free_port)
  env HARNESS_ADMIN_TOKEN="$admin" NODE_AGENT_SHARED_SECRET="$secret" HARNESS_DATABASE_PROVIDER=postgres \
    HARNESS_DATABASE_URL="$1" HARNESS_ARTIFACTS_DIR="$work/artifacts" "${@:2}" \
    dotnet "$work/bin/harness.dll" server --urls "http://127.0.0.1:$port" >"$work/server.log" 2>&1 &
  server_pid=$!; pids+=("$server_pid")
  for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && return 0; sleep 0.5; done
  echo "harness server did not become ready" >&2; cat "$work/server.log" >&2; return 1
}
