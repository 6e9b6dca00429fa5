# shellcheck shell=bash
# A Docker engine for the test suite: installed from Debian's packages when missing, then a
# private, throw-away dockerd on its own socket with no bridge network (loopback only), and the
# tiny test images built from busybox-static. Sourced by test.sh; needs as_root from postgres.sh
# or defines it itself.

if ! declare -F as_root >/dev/null; then
  as_root() {
    if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
  }
fi

# The test images need a busybox that runs without a libc: Debian's busybox-static.
static_busybox() {
  local out
  [ -x /bin/busybox ] || return 1
  # ldd exits non-zero on a static binary; its words are what tell.
  out=$(ldd /bin/busybox 2>&1 || true)
  [[ $out == *"not a dynamic executable"* ]]
}

ensure_docker() {
  if command -v dockerd >/dev/null && command -v docker-init >/dev/null && static_busybox; then
    return
  fi
  echo "==> Installing Docker (Debian packages 'docker.io' and 'busybox-static')"
  as_root apt-get update -qq
  # The package's own daemon is never used (it would make a docker0 bridge): a policy-rc.d that
  # refuses every start keeps it down while the packages install, where the machine has none.
  local policy=/usr/sbin/policy-rc.d added=
  if [ ! -e "$policy" ]; then
    printf '#!/bin/sh\nexit 101\n' | as_root tee "$policy" >/dev/null
    as_root chmod 755 "$policy"
    added=1
  fi
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq docker.io busybox-static >/dev/null
  [ -z "$added" ] || as_root rm -f "$policy"
}

# Starts a private dockerd and exports HARNESS_TEST_DOCKER_HOST. Stop it with stop_private_dockerd.
# --bridge=none: no docker0 and no 172.x network; containers of the tests use host networking on
# 127.0.0.1 only. --iptables/--ip-masq off: the engine leaves the host's firewall alone.
start_private_dockerd() {
  DOCKER_TEST_DIR=$(mktemp -d /tmp/harness-docker.XXXXXX)
  local sock="$DOCKER_TEST_DIR/docker.sock" run=()
  # Started directly (not through a function) so $! is the daemon's own pid, the one stopped later.
  [ "$(id -u)" -eq 0 ] || run=(sudo)
  "${run[@]}" dockerd \
    --host "unix://$sock" \
    --data-root "$DOCKER_TEST_DIR/data" \
    --exec-root "$DOCKER_TEST_DIR/exec" \
    --pidfile "$DOCKER_TEST_DIR/dockerd.pid" \
    --bridge=none --iptables=false --ip6tables=false --ip-masq=false \
    --storage-driver=vfs \
    >"$DOCKER_TEST_DIR/dockerd.log" 2>&1 &
  DOCKER_TEST_PID=$!
  for _ in $(seq 1 120); do
    if docker -H "unix://$sock" version >/dev/null 2>&1; then
      export HARNESS_TEST_DOCKER_HOST="unix://$sock"
      echo "==> Docker engine $(docker -H "unix://$sock" version --format '{{.Server.Version}}') running privately at $sock"
      return
    fi
    if ! kill -0 "$DOCKER_TEST_PID" 2>/dev/null; then
      break
    fi
    sleep 0.5
  done
  echo "dockerd did not start; its log:" >&2
  tail -n 30 "$DOCKER_TEST_DIR/dockerd.log" >&2 || true
  stop_private_dockerd
  return 1
}

stop_private_dockerd() {
  if [ -n "${DOCKER_TEST_PID:-}" ] && kill -0 "$DOCKER_TEST_PID" 2>/dev/null; then
    # Containers left by a failed test go first, so dockerd's shutdown does not wait on them.
    if [ -n "${HARNESS_TEST_DOCKER_HOST:-}" ]; then
      local ids
      ids=$(docker -H "$HARNESS_TEST_DOCKER_HOST" ps -aq 2>/dev/null || true)
      # shellcheck disable=SC2086
      [ -z "$ids" ] || docker -H "$HARNESS_TEST_DOCKER_HOST" rm -f $ids >/dev/null 2>&1 || true
    fi
    kill "$DOCKER_TEST_PID" 2>/dev/null || true
    for _ in $(seq 1 40); do
      kill -0 "$DOCKER_TEST_PID" 2>/dev/null || break
      sleep 0.25
    done
    kill -9 "$DOCKER_TEST_PID" 2>/dev/null || true
    wait "$DOCKER_TEST_PID" 2>/dev/null || true
  fi
  if [ -n "${DOCKER_TEST_DIR:-}" ]; then
    # The engine's exec-root may still hold mounts of its own; unmount before removing.
    { grep -o " $DOCKER_TEST_DIR[^ ]*" /proc/mounts 2>/dev/null || true; } | sort -r | while read -r m; do
      as_root umount -l "$m" 2>/dev/null || true
    done
    as_root rm -rf "$DOCKER_TEST_DIR"
  fi
  DOCKER_TEST_DIR=
  DOCKER_TEST_PID=
  unset HARNESS_TEST_DOCKER_HOST
}

# The test images, made with `docker import` from a root filesystem of busybox-static (no
# registry needed). harness-test/http:1 serves its workspace volume over HTTP on $PORT.
# harness-test/sandbox:1 is the sandbox runtime's test image (the same root filesystem the
# bubblewrap tests make): every busybox applet, a `sandbox` user 1000:1000 with home
# /home/sandbox, /workspace, and deploy/sandbox/entrypoint.sh at /usr/local/bin/entrypoint.sh.
HARNESS_TEST_HTTP_IMAGE=harness-test/http:1
export HARNESS_TEST_SANDBOX_IMAGE=harness-test/sandbox:1

build_test_images() {
  local host=${HARNESS_TEST_DOCKER_HOST:?start_private_dockerd first}
  build_http_test_image "$host"
  build_sandbox_test_image "$host"
}

build_http_test_image() {
  local host=$1
  if docker -H "$host" image inspect "$HARNESS_TEST_HTTP_IMAGE" >/dev/null 2>&1; then
    return
  fi
  local rootfs
  rootfs=$(mktemp -d /tmp/harness-rootfs.XXXXXX)
  mkdir -p "$rootfs/bin" "$rootfs/workspace" "$rootfs/tmp" "$rootfs/etc"
  cp /bin/busybox "$rootfs/bin/busybox"
  local applet
  for applet in sh ls cat echo mkdir rm sleep httpd true env; do
    ln -s busybox "$rootfs/bin/$applet"
  done
  echo "root:x:0:0:root:/:/bin/sh" >"$rootfs/etc/passwd"
  # PORT (and HOST, in host network mode) come from the runtime; 0.0.0.0:8080 when run by hand.
  tar -C "$rootfs" -c . | docker -H "$host" import \
    --change 'ENV PATH=/bin' \
    --change 'WORKDIR /workspace' \
    --change 'CMD ["/bin/sh", "-c", "exec httpd -f -p ${HOST:-0.0.0.0}:${PORT:-8080} -h /workspace"]' \
    - "$HARNESS_TEST_HTTP_IMAGE" >/dev/null
  rm -rf "$rootfs"
  echo "==> Test image $HARNESS_TEST_HTTP_IMAGE built"
}

build_sandbox_test_image() {
  local host=$1
  if docker -H "$host" image inspect "$HARNESS_TEST_SANDBOX_IMAGE" >/dev/null 2>&1; then
    return
  fi
  local rootfs applet repo
  repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
  rootfs=$(mktemp -d /tmp/harness-rootfs.XXXXXX)
  mkdir -p "$rootfs/bin" "$rootfs/etc" "$rootfs/usr/local/bin" "$rootfs/workspace" "$rootfs/home/sandbox" "$rootfs/tmp" "$rootfs/run/harness"
  cp /bin/busybox "$rootfs/bin/busybox"
  for applet in $(/bin/busybox --list); do
    [ "$applet" = busybox ] || ln -s busybox "$rootfs/bin/$applet"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nsandbox:x:1000:1000:sandbox:/home/sandbox:/bin/sh\n' >"$rootfs/etc/passwd"
  printf 'root:x:0:\nsandbox:x:1000:\n' >"$rootfs/etc/group"
  cp "$repo/deploy/sandbox/entrypoint.sh" "$rootfs/usr/local/bin/entrypoint.sh"
  chmod 755 "$rootfs/usr/local/bin/entrypoint.sh"
  chmod 755 "$rootfs" # mktemp made it 0700: as the image's /, the sandbox user could reach nothing
  chmod 1777 "$rootfs/tmp"
  # Owned by the sandbox user in the image, whoever builds it.
  tar -C "$rootfs" --numeric-owner --owner=0 --group=0 --exclude=./workspace --exclude=./home/sandbox -c . >"$rootfs.tar"
  tar -C "$rootfs" --numeric-owner --owner=1000 --group=1000 --no-recursion -rf "$rootfs.tar" ./workspace ./home/sandbox
  docker -H "$host" import \
    --change 'ENV PATH=/usr/local/bin:/bin' \
    --change 'ENV HOME=/home/sandbox' \
    --change 'USER 1000:1000' \
    --change 'WORKDIR /workspace' \
    --change 'ENTRYPOINT ["/usr/local/bin/entrypoint.sh"]' \
    --change 'CMD ["sh"]' \
    - "$HARNESS_TEST_SANDBOX_IMAGE" <"$rootfs.tar" >/dev/null
  rm -rf "$rootfs" "$rootfs.tar"
  echo "==> Test image $HARNESS_TEST_SANDBOX_IMAGE built"
}
