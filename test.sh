#!/usr/bin/env bash
# Runs the whole Harness test suite. Installs what the tests need when it is missing
# (PostgreSQL, adb, Docker and busybox-static from Debian's packages) and starts a private
# PostgreSQL and a private Docker engine (no bridge, loopback only) for the run.
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Heartbeat").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
# shellcheck source=scripts/lib/docker.sh
source scripts/lib/docker.sh

ensure_postgres
# Debian's adb client is driven against the device simulator to prove the adb protocol is faithful.
if ! command -v adb >/dev/null; then
  as_root apt-get install -y -q adb >/dev/null 2>&1 || { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q adb >/dev/null; }
fi
ensure_docker
trap 'stop_private_dockerd; stop_private_postgres' EXIT
start_private_postgres
start_private_dockerd
build_test_images

results=$(mktemp -d /tmp/harness-test-results.XXXXXX)
status=0
dotnet test Harness.slnx -c Release --nologo --logger "trx" --results-directory "$results" "$@" || status=$?

# One closing line for the whole run, summed over every test assembly's TRX report.
passed=0; failed=0; skipped=0
for trx in "$results"/*.trx; do
  [ -f "$trx" ] || continue
  counters=$(grep -o '<Counters [^>]*>' "$trx" | head -n 1)
  p=$(sed -n 's/.* passed="\([0-9]*\)".*/\1/p' <<<"$counters"); passed=$((passed + ${p:-0}))
  f=$(sed -n 's/.* failed="\([0-9]*\)".*/\1/p' <<<"$counters"); failed=$((failed + ${f:-0}))
  total=$(sed -n 's/.* total="\([0-9]*\)".*/\1/p' <<<"$counters")
  executed=$(sed -n 's/.* executed="\([0-9]*\)".*/\1/p' <<<"$counters")
  skipped=$((skipped + ${total:-0} - ${executed:-0}))
done
rm -rf "$results"
echo "tests: $passed passed, $failed failed, $skipped skipped"
if [ "$passed" -eq 0 ] && [ "$status" -eq 0 ]; then
  echo "no test ran" >&2
  exit 1
fi
exit "$status"
