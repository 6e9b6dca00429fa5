#!/usr/bin/env bash
# Runs every benchmark of the peer comparison in one go and refreshes docs/benchmarks.md:
#  - bench/throughput.sh: the pgbench ceiling, the 50,000-task drain against Hangfire and
#    graphile-worker on the same PostgreSQL, and callback ingest with duplicate event_ids;
#  - bench/fleet.sh: pickup latency, idle cost, the fleet (heartbeats + dashboards + tasks)
#    and the agent's footprint.
# ALL=1 also reruns the earlier single-system benchmarks (heartbeat, dispatch, workspace start).
# Each script starts and stops its own private PostgreSQL (and Docker engine where needed);
# the machine should be otherwise idle while they run.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
started=$(date +%s)
bench/throughput.sh
bench/fleet.sh
if [ "${ALL:-0}" = 1 ]; then
  bench/heartbeat.sh
  bench/dispatch.sh
  bench/workspace-start.sh
fi
echo "==> All benchmarks done in $(( $(date +%s) - started )) s; figures in docs/benchmarks.md"
