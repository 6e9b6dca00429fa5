# shellcheck shell=bash
# PostgreSQL for the test suite: installed from Debian's packages when missing, then a private,
# throw-away cluster on a free loopback port. Sourced by test.sh.

pg_bin_dir() {
  ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1
}

as_root() {
  if [ "$(id -u)" -eq 0 ]; then "$@"; else sudo "$@"; fi
}

ensure_postgres() {
  if [ -n "$(pg_bin_dir)" ] && [ -x "$(pg_bin_dir)/initdb" ]; then
    return
  fi
  echo "==> Installing PostgreSQL (Debian package 'postgresql')"
  as_root apt-get update -qq
  # The package's own cluster is not used; policy-rc.d keeps it from starting where services can't.
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
}

# A loopback port nothing listens on, below the kernel's ephemeral range: a port in that range can be taken
# by any outgoing connection (a load tool's thousands of them) between this check and the bind.
free_port() {
  local port low
  low=$(awk '{print $1}' /proc/sys/net/ipv4/ip_local_port_range 2>/dev/null || echo 32768)
  (( low > 12000 )) || low=32768
  for _ in $(seq 1 50); do
    port=$(( (RANDOM % (low - 10000)) + 10000 ))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return
    fi
  done
  echo "no free port found" >&2
  return 1
}

# Starts a private cluster and exports HARNESS_TEST_POSTGRES. Stop it with stop_private_postgres.
start_private_postgres() {
  local bin user port
  bin=$(pg_bin_dir)
  PG_TEST_DIR=$(mktemp -d /tmp/harness-pg.XXXXXX)
  port=$(free_port)
  # PostgreSQL refuses to run as root; the package's 'postgres' user owns the private cluster then.
  if [ "$(id -u)" -eq 0 ]; then user=postgres; else user=$(id -un); fi
  chown "$user" "$PG_TEST_DIR"
  PG_RUN=(runuser -u "$user" --)
  [ "$(id -u)" -eq 0 ] || PG_RUN=()
  "${PG_RUN[@]}" "$bin/initdb" -D "$PG_TEST_DIR/data" -U postgres --auth=trust -E UTF8 --no-locale >/dev/null
  # Durability settings are off: this cluster lives for one test run and is deleted after it.
  # The free port can be taken by someone else before the cluster binds it: try another, twice.
  local attempt
  for attempt in 1 2 3; do
    if "${PG_RUN[@]}" "$bin/pg_ctl" -D "$PG_TEST_DIR/data" -l "$PG_TEST_DIR/postgres.log" -w -t 60 \
      -o "-p $port -k $PG_TEST_DIR -c listen_addresses=127.0.0.1 -c max_connections=400 -c fsync=off -c synchronous_commit=off -c full_page_writes=off" \
      start >/dev/null; then
      break
    fi
    echo "==> The private PostgreSQL did not start on port $port (attempt $attempt); its log:" >&2
    tail -n 20 "$PG_TEST_DIR/postgres.log" >&2 || true
    [ "$attempt" -lt 3 ] || return 1
    sleep 2
    port=$(free_port)
  done
  PG_TEST_BIN=$bin
  PG_TEST_USER=$user
  export HARNESS_TEST_POSTGRES="Host=127.0.0.1;Port=$port;Username=postgres;Database=postgres;Pooling=true;Maximum Pool Size=20"
  echo "==> PostgreSQL $("$bin/postgres" --version | awk '{print $3}') running privately on 127.0.0.1:$port"
}

stop_private_postgres() {
  if [ -n "${PG_TEST_DIR:-}" ] && [ -f "$PG_TEST_DIR/data/postmaster.pid" ]; then
    "${PG_RUN[@]}" "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -m fast -w stop >/dev/null || true
  fi
  [ -n "${PG_TEST_DIR:-}" ] && rm -rf "$PG_TEST_DIR"
  PG_TEST_DIR=
}
