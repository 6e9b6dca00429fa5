# Setup the bench scripts share; source it after scripts/lib/postgres.sh (and scripts/lib/docker.sh
# when the script starts a Docker engine).
#   bench_workdir NAME  makes "$work" (a temp folder) and "pids" (the processes the script starts,
#                       each stopped by its pid at exit, before the private engines it started)
#   ensure_gnuplot      installs gnuplot-nox for the plots when it is missing

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
