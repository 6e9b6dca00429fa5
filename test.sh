#!/usr/bin/env bash
# Runs the whole Harness test suite. Installs what the tests need when it is missing
# (PostgreSQL, adb, bubblewrap, Chromium, Docker, busybox-static, debootstrap, promtool from Debian's
# packages) and starts a private
# PostgreSQL and a private Docker engine (no bridge, loopback only) for the run.
# Extra arguments go to `dotnet test` (e.g. --filter "FullyQualifiedName~Heartbeat").
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
cd "$root"
# shellcheck source=scripts/lib/postgres.sh
source scripts/lib/postgres.sh
# shellcheck source=scripts/lib/docker.sh
source scripts/lib/docker.sh
# shellcheck source=scripts/lib/images.sh
source scripts/lib/images.sh

ensure_postgres
# Debian's adb client is driven against the device simulator to prove the adb protocol is faithful.
if ! command -v adb >/dev/null; then
  as_root apt-get install -y -q adb >/dev/null 2>&1 || { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q adb >/dev/null; }
fi
# The sandbox runtime's bubblewrap backend is tested for real: bwrap (not setuid; unprivileged user namespaces),
# setpriv from util-linux, and the static busybox ensure_docker installs for the sandbox's root filesystem.
if ! command -v bwrap >/dev/null; then
  as_root apt-get install -y -q bubblewrap >/dev/null 2>&1 || { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q bubblewrap >/dev/null; }
fi
# Debian's Chromium, driven by Playwright, for the web console's end-to-end tests (no browser download).
if ! command -v chromium >/dev/null; then
  as_root apt-get install -y -q chromium >/dev/null 2>&1 || { as_root apt-get update -q >/dev/null && as_root apt-get install -y -q chromium >/dev/null; }
fi
# promtool (Debian's 'prometheus' package) validates /metrics; kubectl renders the Kustomize overlays.
if ! command -v promtool >/dev/null; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null 2>&1 \
    || { as_root apt-get update -q >/dev/null && as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends prometheus >/dev/null; }
fi
# Kustomize v5 features (labels, patches) need kubectl >= 1.27: the 'kubectl' package (Kubernetes'
# apt repository or Google Cloud's); Debian's own kubernetes-client (1.20) is too old.
if ! command -v kubectl >/dev/null; then
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -q kubectl >/dev/null 2>&1 \
    || echo "warning: kubectl is missing; install kubectl >= 1.27 or the Kustomize tests fail" >&2
fi
ensure_docker
trap 'stop_private_dockerd; stop_private_postgres' EXIT
start_private_postgres
start_private_dockerd
build_test_images
# The Dockerfile's local bases (debootstrapped Debian, cached) and its offline NuGet feed.
build_base_images
prepare_nuget_offline "$root"

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
