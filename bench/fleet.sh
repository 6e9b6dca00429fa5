#!/usr/bin/env bash
# Fleet-scale benchmarks of issue 7 (3, 4, 6, 7), server on a private PostgreSQL, all on loopback:
#  - pickup:    PICKUP_SAMPLES single-device runs PICKUP_INTERVAL_MS apart to PICKUP_AGENTS idle
#               long-polling agents, after PICKUP_WARMUP_RUNS (40) unmeasured ones; commit (run creation's
#               response) → agent's pull response; ROUNDS rounds;
#  - idle:      IDLE_AGENTS ("100 1000") idle long-polling agents, IDLE_SECONDS (300) each, split in 3
#               windows; PostgreSQL statements/s (pg_stat_statements) and server CPU;
#  - fleet:     FLEET_STEPS agents ("100 250 500 1000") × FLEET_DEVICES (100) devices heartbeating every
#               5 s, 20 dashboards polling, FLEET_RUNS_PER_SEC single-device runs; FLEET_SECONDS per step,
#               FLEET_ROUNDS (3) rounds of each step on a fresh server, reported as their median;
#  - footprint: one real `harness agent` + `harness devicesim --devices 100`, MAX_CONCURRENCY_PER_NODE=20,
#               ROUNDS × 5 runs of the README's 6-step workflow on all 100 devices (500 tasks a round).
# Simulated agents are bench/Harness.Fleet (one process, async HTTP). Every measurement gets a fresh
# database and server. Writes "## Pickup latency", "## Idle cost", "## Fleet", "## Agent footprint" into
# docs/benchmarks.md and plots to docs/images/bench-*.png.
# Usage: bench/fleet.sh [pickup] [idle] [fleet] [footprint]     (default: all four)
# Quick run: ROUNDS=1 IDLE_SECONDS=30 FLEET_STEPS="100" FLEET_SECONDS=20 bench/fleet.sh
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"
# shellcheck source=../scripts/lib/postgres.sh
source scripts/lib/postgres.sh
# shellcheck source=lib.sh
source bench/lib.sh
parts=("$@"); [ ${#parts[@]} -gt 0 ] || parts=(pickup idle fleet footprint)
ROUNDS=${ROUNDS:-3}
PICKUP_AGENTS=${PICKUP_AGENTS:-20}; PICKUP_SAMPLES=${PICKUP_SAMPLES:-200}; PICKUP_INTERVAL_MS=${PICKUP_INTERVAL_MS:-50}; PICKUP_WARMUP_RUNS=${PICKUP_WARMUP_RUNS:-40}
IDLE_AGENTS=${IDLE_AGENTS:-"100 1000"}; IDLE_SECONDS=${IDLE_SECONDS:-300}
FLEET_STEPS=${FLEET_STEPS:-"100 250 500 1000"}; FLEET_DEVICES=${FLEET_DEVICES:-100}; FLEET_SECONDS=${FLEET_SECONDS:-60}; FLEET_ROUNDS=${FLEET_ROUNDS:-3}
FLEET_DASHBOARDS=${FLEET_DASHBOARDS:-20}; FLEET_DASH_SEC=${FLEET_DASH_SEC:-5}; FLEET_RUNS_PER_SEC=${FLEET_RUNS_PER_SEC:-5}
FOOTPRINT_DEVICES=${FOOTPRINT_DEVICES:-100}; FOOTPRINT_CONCURRENCY=${FOOTPRINT_CONCURRENCY:-20}; FOOTPRINT_RUNS=${FOOTPRINT_RUNS:-5}
want() { local p; for p in "${parts[@]}"; do [ "$p" = "$1" ] && return 0; done; return 1; }

ensure_gnuplot
ensure_postgres
bench_workdir fleet

echo "==> Building"
# HARNESS_BIN / FLEET_BIN: reuse builds made before (development runs on a busy machine).
if [ -n "${HARNESS_BIN:-}" ]; then ln -s "$HARNESS_BIN" "$work/bin"; else dotnet build src/Harness.Cli/Harness.Cli.csproj -c Release -o "$work/bin" --nologo -v quiet >/dev/null; fi
if [ -n "${FLEET_BIN:-}" ]; then ln -s "$FLEET_BIN" "$work/fleet"; else dotnet build bench/Harness.Fleet/Harness.Fleet.csproj -c Release -o "$work/fleet" --nologo -v quiet >/dev/null; fi
start_private_postgres
pg_port=$(sed 's/.*Port=\([0-9]*\).*/\1/' <<<"$HARNESS_TEST_POSTGRES")
psql_db() { "${PG_RUN[@]}" "$PG_TEST_BIN/psql" -h "$PG_TEST_DIR" -p "$pg_port" -U postgres -d "$1" -Atqc "$2"; }
# pg_stat_statements needs shared_preload_libraries: set it and restart the private cluster.
psql_db postgres "ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'" >/dev/null
"${PG_RUN[@]}" "$PG_TEST_BIN/pg_ctl" -D "$PG_TEST_DIR/data" -w -t 60 restart >/dev/null
pg_version=$("$PG_TEST_BIN/postgres" --version | awk '{print $3}')
admin="bench-admin-token-$(date +%s)-0123456789"
secret="bench-fleet-secret-$(date +%s)-0123456789"
fleet_tool=(dotnet "$work/fleet/Harness.Fleet.dll")
db_seq=0

# start_server: a fresh database and a server on it; sets db, port, server_pid.
start_server() {
  db_seq=$((db_seq + 1)); db="harness_fleet_$db_seq"
  psql_db postgres "CREATE DATABASE $db" >/dev/null
  psql_db "$db" "CREATE EXTENSION pg_stat_statements" >/dev/null
  port=$(free_port)
  HARNESS_ADMIN_TOKEN=$admin NODE_AGENT_SHARED_SECRET=$secret HARNESS_DATABASE_PROVIDER=postgres \
    HARNESS_DATABASE_URL="${HARNESS_TEST_POSTGRES/Database=postgres/Database=$db}" HARNESS_ARTIFACTS_DIR="$work/artifacts-$db_seq" \
    Logging__LogLevel__Default=Warning dotnet "$work/bin/harness.dll" server --urls "http://127.0.0.1:$port" >"$work/server-$db_seq.log" 2>&1 &
  server_pid=$!; pids+=("$server_pid")
  for _ in $(seq 1 120); do curl -fs "http://127.0.0.1:$port/health/ready" >/dev/null && return; sleep 0.5; done
  echo "server did not become ready" >&2; cat "$work/server-$db_seq.log" >&2; return 1
}
stop_pid() { kill "$1" 2>/dev/null || true; wait "$1" 2>/dev/null || true; }
stop_server() { stop_pid "$server_pid"; psql_db postgres "DROP DATABASE IF EXISTS $db" >/dev/null || true; }
cpu_ticks() { awk '{ sub(/.*\) /, ""); split($0, f, " "); print f[12] + f[13] }' "/proc/$1/stat"; }
# Statements this database ran (pg_stat_statements, the stats queries themselves excluded).
statements() { psql_db "$db" "SELECT coalesce(sum(calls),0) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$db' AND query NOT LIKE '%pg_stat%'"; }
xacts() { psql_db "$db" "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = '$db'"; }
field() { sed -n "s/.* $1=\([^ ]*\).*/\1/p" <<<" $2"; }
median() { sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) print "-"; else if (NR % 2) print a[(NR + 1) / 2]; else printf "%.2f\n", (a[NR / 2] + a[NR / 2 + 1]) / 2 }'; }
ticks_per_s=$(getconf CLK_TCK)
fleet() { "${fleet_tool[@]}" "$1" --url "http://127.0.0.1:$port" --admin "$admin" --secret "$secret" --tag "r$db_seq" "${@:2}"; }

mkdir -p docs/images
cpu=$(lscpu | sed -n 's/^Model name: *//p' | head -n 1)
machine="- Machine: $(nproc) cores ($cpu), $(free -g | awk '/Mem:/ {print $2}') GiB, $(. /etc/os-release; echo "$PRETTY_NAME"), .NET $(dotnet --version), PostgreSQL $pg_version (private cluster, fsync off)"
today=$(date -u +%Y-%m-%d)
contention() { echo "Load average $(cut -d' ' -f1-3 /proc/loadavg) when this section was written, on 2 cores: server, PostgreSQL and the load tool share the cores, and anything else running on the machine adds its noise to absolute latencies and CPU shares."; }

# write_section NAME FILE: replaces (or appends) "## NAME" in docs/benchmarks.md.
write_section() {
  local doc=docs/benchmarks.md
  awk -v name="## $1" -v section="$2" '
    $0 == name { while ((getline line < section) > 0) print line; skip = 1; next }
    skip && /^## / { skip = 0; print ""; }
    !skip { print }
  ' "$doc" >"$work/doc.md"
  grep -qx "## $1" "$doc" || { echo >>"$work/doc.md"; cat "$2" >>"$work/doc.md"; }
  cp "$work/doc.md" "$doc"
  echo "==> Wrote section '$1' of $doc"
}

if want pickup; then
  echo "==> Pickup latency: $ROUNDS round(s) of $PICKUP_SAMPLES runs to $PICKUP_AGENTS idle agents"
  : >"$work/pickup.txt"
  for r in $(seq 1 "$ROUNDS"); do
    start_server
    fleet pickup --agents "$PICKUP_AGENTS" --samples "$PICKUP_SAMPLES" --interval-ms "$PICKUP_INTERVAL_MS" --warmup-runs "$PICKUP_WARMUP_RUNS" --out "$work/pickup-$r.ms" | tee -a "$work/pickup.txt" || true
    stop_server
  done
  p50=$(while read -r l; do field p50_ms "$l"; done <"$work/pickup.txt" | median)
  p99=$(while read -r l; do field p99_ms "$l"; done <"$work/pickup.txt" | median)
  rp99=$(while read -r l; do field req_p99_ms "$l"; done <"$work/pickup.txt" | median)
  rp50=$(while read -r l; do field req_p50_ms "$l"; done <"$work/pickup.txt" | median)
  sort -g "$work"/pickup-*.ms | awk '{ v[NR] = $1 } END { for (i = 1; i <= NR; i++) print v[i], i / NR }' >"$work/pickup-cdf.dat"
  gnuplot <<EOF
set terminal png size 800,450
set output "docs/images/bench-pickup-cdf.png"
set title "Pickup latency CDF (commit -> agent), $ROUNDS x $PICKUP_SAMPLES runs"
set xlabel "ms"; set ylabel "fraction"; set grid; set key bottom right
set arrow from 10, graph 0 to 10, graph 1 nohead dt 2
plot "$work/pickup-cdf.dat" using 1:2 with lines lw 2 title "all rounds"
EOF
  met=$(awk -v v="$p99" 'BEGIN { print (v <= 10 ? "**met**" : "**not met**") }')
  {
    echo "## Pickup latency"
    echo
    echo "$PICKUP_SAMPLES single-device runs, $PICKUP_INTERVAL_MS ms apart, to $PICKUP_AGENTS simulated agents idle in their"
    echo "long-poll (\`POST /api/nodes/pull\`, wait 20 s); \`harness server\` on PostgreSQL. Latency is from the"
    echo "run's commit (the moment \`POST /api/runs\` answered) to the agent receiving the task in its pull"
    echo "response, both on the load tool's monotonic clock (same host). The figure from the moment the"
    echo "request was *sent* is given too; it adds the run's creation. Each round starts with"
    echo "$PICKUP_WARMUP_RUNS warm-up runs at the same pace, not measured: the first passes through run creation, claim"
    echo "and callbacks pay for the JIT (up to 300 ms each), a start-up cost rather than pickup latency."
    echo
    echo "$machine"
    echo "- Command: \`ROUNDS=$ROUNDS bench/fleet.sh pickup\`"
    echo "- Date: $today"
    echo
    echo "| round | p50 ms | p99 ms | max ms | from request sent: p50 ms | p99 ms |"
    echo "|---|---|---|---|---|---|"
    n=0; while read -r l; do n=$((n + 1)); echo "| $n | $(field p50_ms "$l") | $(field p99_ms "$l") | $(field max_ms "$l") | $(field req_p50_ms "$l") | $(field req_p99_ms "$l") |"; done <"$work/pickup.txt"
    echo "| **median** | **$p50** | **$p99** | | **$rp50** | **$rp99** |"
    echo
    echo "Target p99 ≤ 10 ms: $met (median of the rounds' p99)."
    echo
    echo "![Pickup latency CDF](images/bench-pickup-cdf.png)"
    echo
    contention
  } >"$work/section-pickup.md"
  write_section "Pickup latency" "$work/section-pickup.md"
fi

if want idle; then
  echo "==> Idle cost: $IDLE_AGENTS agents, $IDLE_SECONDS s each"
  : >"$work/idle.txt"
  window=$((IDLE_SECONDS / 3))
  for n in $IDLE_AGENTS; do
    start_server
    rm -f "$work/ready"
    fleet idle --agents "$n" --seconds $((IDLE_SECONDS + 30)) --ready-file "$work/ready" >"$work/idle-$n.out" 2>&1 &
    tool=$!; pids+=("$tool")
    for _ in $(seq 1 600); do [ -f "$work/ready" ] && break; sleep 0.5; done
    s0=$(statements); x0=$(xacts); c0=$(cpu_ticks "$server_pid"); t0=$(date +%s.%N)
    for w in 1 2 3; do
      sleep "$window"
      s1=$(statements); x1=$(xacts); c1=$(cpu_ticks "$server_pid"); t1=$(date +%s.%N)
      awk -v n="$n" -v w="$w" -v s="$((s1 - s0))" -v x="$((x1 - x0))" -v c="$((c1 - c0))" -v t0="$t0" -v t1="$t1" -v hz="$ticks_per_s" -v cores="$(nproc)" \
        'BEGIN { d = t1 - t0; printf "idle agents=%d window=%d seconds=%.1f stmts_per_s=%.1f xacts_per_s=%.1f server_cpu_pct=%.2f\n", n, w, d, s / d, x / d, c / hz / d / cores * 100 }' | tee -a "$work/idle.txt"
      s0=$s1; x0=$x1; c0=$c1; t0=$t1
    done
    psql_db "$db" "SELECT calls, left(regexp_replace(query, '\s+', ' ', 'g'), 110) FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid WHERE d.datname = '$db' ORDER BY calls DESC LIMIT 5" >"$work/idle-top-$n.txt"
    stop_pid "$tool"
    stop_server
  done
  : >"$work/idle.dat"
  for n in $IDLE_AGENTS; do
    s=$(grep " agents=$n " "$work/idle.txt" | while read -r l; do field stmts_per_s "$l"; done | median)
    c=$(grep " agents=$n " "$work/idle.txt" | while read -r l; do field server_cpu_pct "$l"; done | median)
    x=$(grep " agents=$n " "$work/idle.txt" | while read -r l; do field xacts_per_s "$l"; done | median)
    echo "$n $s $c $x" >>"$work/idle.dat"
  done
  gnuplot <<EOF
set terminal png size 800,450
set output "docs/images/bench-idle.png"
set title "Idle cost vs idle long-polling agents (median of 3 windows)"
set xlabel "agents"; set ylabel "statements/s"; set y2label "server CPU % of 2 cores"
set logscale x; set ytics nomirror; set y2tics; set grid; set key top left
set yrange [0:*]; set y2range [0:*]
plot "$work/idle.dat" using 1:2 with linespoints lw 2 title "PostgreSQL statements/s", "" using 1:3 axes x1y2 with linespoints lw 2 title "server CPU %"
EOF
  first=$(head -n 1 "$work/idle.dat"); last=$(tail -n 1 "$work/idle.dat")
  {
    echo "## Idle cost"
    echo
    echo "Simulated agents, each with one device, enrolled and heartbeated once, then idle in their"
    echo "long-poll (\`POST /api/nodes/pull\`, wait 20 s) with nothing queued; no heartbeats during the"
    echo "measurement, so only the idle pull path is counted. $IDLE_SECONDS s per agent count, split in three"
    echo "windows of $window s; medians of the windows. Statements are every statement the server's"
    echo "database ran (pg_stat_statements, preloaded in the private cluster); transactions from"
    echo "pg_stat_database; server CPU is utime + stime of the server process from /proc, as a share of"
    echo "both cores."
    echo
    echo "$machine"
    echo "- Command: \`IDLE_SECONDS=$IDLE_SECONDS bench/fleet.sh idle\`"
    echo "- Date: $today"
    echo
    echo "| agents | window | seconds | statements/s | transactions/s | server CPU % |"
    echo "|---|---|---|---|---|---|"
    while read -r l; do echo "| $(field agents "$l") | $(field window "$l") | $(field seconds "$l") | $(field stmts_per_s "$l") | $(field xacts_per_s "$l") | $(field server_cpu_pct "$l") |"; done <"$work/idle.txt"
    echo
    echo "| agents | statements/s (median) | transactions/s | server CPU % |"
    echo "|---|---|---|---|"
    while read -r n s c x; do echo "| $n | $s | $x | $c |"; done <"$work/idle.dat"
    echo
    awk -v a="$first" -v b="$last" 'BEGIN { split(a, x, " "); split(b, y, " ");
      printf "From %d to %d agents (%.0f×) statements/s went %s → %s and server CPU %s%% → %s%%. ", x[1], y[1], y[1] / x[1], x[2], y[2], x[3], y[3];
      flat = (y[2] <= x[2] * 2 + 5 && y[3] <= x[3] * 2 + 2);
      printf "Target (flat as agents grow): %s.\n", flat ? "**met**" : "**not met**" }'
    echo
    echo "Busiest statements at the largest count (calls, query):"
    echo
    echo '```'
    cat "$work/idle-top-$(echo "$IDLE_AGENTS" | awk '{print $NF}').txt"
    echo '```'
    echo
    echo "![Idle cost](images/bench-idle.png)"
    echo
    contention
  } >"$work/section-idle.md"
  write_section "Idle cost" "$work/section-idle.md"
fi

if want fleet; then
  echo "==> Fleet: steps $FLEET_STEPS agents × $FLEET_DEVICES devices, $FLEET_SECONDS s each"
  : >"$work/fleet.txt"
  verdict() {
    awk -v c="$(field server_cpu_pct "$1")" -v h="$(field hb_p99_ms "$1")" -v s="$(field status_p99_ms "$1")" -v d="$(field dash_p99_ms "$1")" -v v="$(field devices_p99_ms "$1")" \
      -v e="$(( $(field hb_errors "$1") + $(field status_errors "$1") + $(field dash_errors "$1") + $(field devices_errors "$1") ))" \
      'BEGIN { print (c <= 50 && h <= 100 && s <= 100 && d <= 100 && v <= 100 && e == 0) ? "holds" : "fails" }'
  }
  # The field-by-field median of the rounds' result lines (errors: the most of any round), with every round's
  # heartbeat and dashboard p99 listed.
  median_line() {
    awk '{ for (i = 2; i <= NF; i++) { split($i, kv, "="); v[kv[1], NR] = kv[2]; if (NR == 1) keys[++k] = kv[1] } }
      END {
        line = "fleet rounds=" NR
        for (j = 1; j <= k; j++) {
          n = 0; for (r = 1; r <= NR; r++) a[++n] = v[keys[j], r] + 0
          for (x = 1; x <= n; x++) for (y = x + 1; y <= n; y++) if (a[y] < a[x]) { t = a[x]; a[x] = a[y]; a[y] = t }
          m = n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
          if (keys[j] ~ /_errors$/) m = a[n]
          line = line " " keys[j] "=" m
        }
        hb = ""; dash = ""; for (r = 1; r <= NR; r++) { hb = hb (r > 1 ? "," : "") v["hb_p99_ms", r]; dash = dash (r > 1 ? "," : "") v["dash_p99_ms", r] }
        print line " hb_p99_rounds=" hb " dash_p99_rounds=" dash
      }'
  }
  for n in $FLEET_STEPS; do
    : >"$work/fleet-step.txt"
    for r in $(seq 1 "$FLEET_ROUNDS"); do
      start_server
      fleet fleet --agents "$n" --devices "$FLEET_DEVICES" --seconds "$FLEET_SECONDS" --hb-sec 5 --dashboards "$FLEET_DASHBOARDS" \
        --dash-sec "$FLEET_DASH_SEC" --runs-per-sec "$FLEET_RUNS_PER_SEC" --server-pid "$server_pid" | tee -a "$work/fleet-step.txt" || true
      stop_server
    done
    grep '^fleet ' "$work/fleet-step.txt" | median_line >>"$work/fleet.txt"
    echo "median of $FLEET_ROUNDS: $(tail -n 1 "$work/fleet.txt")"
    # FLEET_STOP_AFTER_FAIL=1: larger steps are not tried once one fails (the answer is known by then).
    if [ "${FLEET_STOP_AFTER_FAIL:-0}" = 1 ] && [ "$(verdict "$(tail -n 1 "$work/fleet.txt")")" = fails ]; then break; fi
  done
  largest="none"; first_fail="none"
  while read -r l; do
    if [ "$(verdict "$l")" = holds ]; then [ "$first_fail" = none ] && largest=$(field agents "$l"); elif [ "$first_fail" = none ]; then first_fail=$(field agents "$l"); fi
  done <"$work/fleet.txt"
  while read -r l; do echo "$(field agents "$l") $(field server_cpu_pct "$l") $(field hb_p99_ms "$l") $(field status_p99_ms "$l") $(field dash_p99_ms "$l") $(field devices_p99_ms "$l")"; done <"$work/fleet.txt" >"$work/fleet.dat"
  gnuplot <<EOF
set terminal png size 800,450
set output "docs/images/bench-fleet.png"
set title "Fleet: p99 latency and server CPU vs agents (x $FLEET_DEVICES devices, heartbeat every 5 s)"
set xlabel "agents"; set ylabel "p99 ms"; set y2label "server CPU % of 2 cores"
set logscale y; set yrange [10:*]; set ytics nomirror; set y2tics; set y2range [0:100]; set grid; set key top left
set arrow from graph 0, first 100 to graph 1, first 100 nohead dt 2
plot "$work/fleet.dat" using 1:3 with linespoints lw 2 title "heartbeat p99", "" using 1:5 with linespoints lw 2 title "dashboard p99", \
  "" using 1:4 with linespoints lw 2 title "nodes/status p99", "" using 1:6 with linespoints lw 2 title "devices p99", \
  "" using 1:2 axes x1y2 with linespoints lw 2 dt 3 title "server CPU %"
EOF
  {
    echo "## Fleet"
    echo
    echo "Simulated agents with $FLEET_DEVICES devices each heartbeat every 5 s (evenly spread; every heartbeat"
    echo "carries the full inventory), long-poll for tasks and finish each after 2 s (\`running\` +"
    echo "\`succeeded\` in one callback batch); $FLEET_RUNS_PER_SEC single-device runs a second keep tasks flowing;"
    echo "$FLEET_DASHBOARDS dashboards each poll \`GET /api/dashboard\`, \`GET /api/devices\` (what the console's"
    echo "device page lists) and \`GET /api/nodes/status\` every $FLEET_DASH_SEC s. $FLEET_SECONDS s measured per round after"
    echo "a warm-up that ends with two polls of every dashboard; only requests that began inside the window count."
    echo "Each step runs $FLEET_ROUNDS rounds, each on a fresh database and server; the table gives the median of each"
    echo "figure over the rounds and the verdict on those medians. Server CPU from /proc (utime + stime) as a share of both cores."
    echo
    echo "$machine"
    echo "- Command: \`FLEET_STEPS=\"$FLEET_STEPS\" FLEET_SECONDS=$FLEET_SECONDS FLEET_ROUNDS=$FLEET_ROUNDS FLEET_STOP_AFTER_FAIL=${FLEET_STOP_AFTER_FAIL:-0} bench/fleet.sh fleet\`"
    echo "- Date: $today"
    echo
    echo "| agents | devices | server CPU % | load tool CPU % | heartbeats/s | heartbeat p50 / p99 ms | heartbeat p99 by round | dashboard p99 ms | dashboard p99 by round | nodes/status p50 / p99 ms | devices p50 / p99 ms | pull p99 ms | tasks/s | errors | verdict |"
    echo "|---|---|---|---|---|---|---|---|---|---|---|---|---|---|---|"
    while read -r l; do
      echo "| $(field agents "$l") | $(field devices "$l") | $(field server_cpu_pct "$l") | $(field tool_cpu_pct "$l") | $(field heartbeats_per_s "$l") | $(field hb_p50_ms "$l") / $(field hb_p99_ms "$l") | $(field hb_p99_rounds "$l" | sed 's/,/, /g') | $(field dash_p99_ms "$l") | $(field dash_p99_rounds "$l" | sed 's/,/, /g') | $(field status_p50_ms "$l") / $(field status_p99_ms "$l") | $(field devices_p50_ms "$l") / $(field devices_p99_ms "$l") | $(field pull_p99_ms "$l") | $(field tasks_per_s "$l") | $(( $(field hb_errors "$l") + $(field status_errors "$l") + $(field dash_errors "$l") + $(field devices_errors "$l") )) | $(verdict "$l") |"
    done <"$work/fleet.txt"
    echo
    echo "Targets: server CPU ≤ 50% of 2 cores, p99 of heartbeat, status and dashboard ≤ 100 ms."
    if [ "$largest" = none ]; then
      echo "**Largest fleet that holds: none of the steps tried**; the first that fails is the smallest, $first_fail agents ($((first_fail * FLEET_DEVICES)) devices)."
    else
      echo "**Largest fleet that holds: $largest agents** ($((largest * FLEET_DEVICES)) devices); first that fails: $first_fail."
    fi
    echo
    echo "![Fleet p99 and CPU](images/bench-fleet.png)"
    echo
    contention
  } >"$work/section-fleet.md"
  write_section "Fleet" "$work/section-fleet.md"
fi

if want footprint; then
  echo "==> Agent footprint: $FOOTPRINT_DEVICES devices, concurrency $FOOTPRINT_CONCURRENCY, $ROUNDS × $FOOTPRINT_RUNS runs"
  start_server
  ws=$(free_port)
  dotnet "$work/bin/harness.dll" devicesim --devices "$FOOTPRINT_DEVICES" --url "ws://127.0.0.1:$ws" >"$work/sim.log" 2>&1 &
  sim_pid=$!; pids+=("$sim_pid")
  HARNESS_SERVER_URL="http://127.0.0.1:$port" HARNESS_AGENT_NAME=FOOT-01 HARNESS_AGENT_STATE_DIR="$work/agent" \
    NODE_AGENT_SHARED_SECRET=$secret HARNESS_DEVICE_ADAPTER=vendor-ws VENDOR_WS_URL="ws://127.0.0.1:$ws" \
    MAX_CONCURRENCY_PER_NODE=$FOOTPRINT_CONCURRENCY dotnet "$work/bin/harness.dll" agent >"$work/agent.log" 2>&1 &
  agent_pid=$!; pids+=("$agent_pid")
  ( while kill -0 "$agent_pid" 2>/dev/null; do awk '/VmRSS/ {print $2}' "/proc/$agent_pid/status" 2>/dev/null; sleep 0.2; done ) >"$work/rss.txt" &
  sampler=$!; pids+=("$sampler")
  python3 - "http://127.0.0.1:$port" "$admin" "$FOOTPRINT_DEVICES" "$FOOTPRINT_CONCURRENCY" "$FOOTPRINT_RUNS" "$ROUNDS" "$agent_pid" "$ticks_per_s" "$work/rss.txt" <<'PY' | tee "$work/footprint.txt"
import json, sys, time, urllib.request
url, token, devices, conc, runs, rounds, pid, hz, rss_file = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4]), int(sys.argv[5]), int(sys.argv[6]), sys.argv[7], int(sys.argv[8]), sys.argv[9]
def call(method, path, body=None):
    req = urllib.request.Request(url + path, data=None if body is None else json.dumps(body).encode(), method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")
def ticks():
    with open(f"/proc/{pid}/stat") as f:
        s = f.read()
    fields = s[s.rindex(")") + 2:].split()
    return int(fields[11]) + int(fields[12])
def rss_lines():
    with open(rss_file) as f:
        return [int(x) for x in f.read().split() if x.strip().isdigit()]
while call("GET", "/api/nodes/status")["online"] < devices:
    time.sleep(0.5)
time.sleep(2)
with open("examples/workflows/login-and-capture.json") as f:
    wf = json.load(f)
wf["name"] = "bench-footprint"
wid = call("POST", "/api/workflows", wf)["workflow_id"]
for r in range(1, rounds + 1):
    mark = len(rss_lines())
    c0, t0 = ticks(), time.time()
    ids = [call("POST", "/api/runs", {"workflow_id": wid, "target": {"all": True}, "concurrency": conc, "vars": {"user": "bench"}})["run_id"] for _ in range(runs)]
    ok = 0
    for rid in ids:
        while True:
            run = call("GET", f"/api/runs/{rid}")
            if run["run"]["status"] in ("succeeded", "failed", "cancelled"):
                ok += run["run"]["counts"]["succeeded"]
                break
            time.sleep(0.5)
    c1, t1 = ticks(), time.time()
    rss = rss_lines()[mark:]
    tasks = runs * devices
    rss_sorted = sorted(rss)
    print(f"footprint round={r} tasks={tasks} succeeded={ok} wall_s={t1 - t0:.1f} tasks_per_s={tasks / (t1 - t0):.1f} "
          f"cpu_ms_per_task={(c1 - c0) * 1000 / hz / tasks:.2f} cpu_pct={(c1 - c0) / hz / (t1 - t0) * 100:.1f} "
          f"rss_peak_mib={max(rss) / 1024:.1f} rss_median_mib={rss_sorted[len(rss_sorted) // 2] / 1024:.1f}", flush=True)
time.sleep(10)
idle = rss_lines()[-20:]
print(f"footprint_idle rss_after_mib={sorted(idle)[len(idle) // 2] / 1024:.1f} rss_peak_all_mib={max(rss_lines()) / 1024:.1f}")
PY
  stop_pid "$agent_pid"; stop_pid "$sim_pid"; stop_pid "$sampler"
  stop_server
  cpt=$(grep '^footprint round' "$work/footprint.txt" | while read -r l; do field cpu_ms_per_task "$l"; done | median)
  rssm=$(grep '^footprint round' "$work/footprint.txt" | while read -r l; do field rss_median_mib "$l"; done | median)
  tail_line=$(grep '^footprint_idle' "$work/footprint.txt")
  {
    echo "## Agent footprint"
    echo
    echo "One real \`harness agent\` driving \`harness devicesim --devices $FOOTPRINT_DEVICES\` over the vendor WebSocket at"
    echo "MAX_CONCURRENCY_PER_NODE=$FOOTPRINT_CONCURRENCY; each round is $FOOTPRINT_RUNS runs of the README's 6-step example (preflight,"
    echo "launch_app, input_text, screenshot, upload, report) on all $FOOTPRINT_DEVICES devices at run concurrency"
    echo "$FOOTPRINT_CONCURRENCY: $((FOOTPRINT_RUNS * FOOTPRINT_DEVICES)) device tasks a round, every screenshot uploaded. RSS is the agent's VmRSS sampled every"
    echo "200 ms; CPU is the agent's utime + stime from /proc over the round, divided by its tasks."
    echo
    echo "$machine"
    echo "- Command: \`ROUNDS=$ROUNDS FOOTPRINT_RUNS=$FOOTPRINT_RUNS bench/fleet.sh footprint\`"
    echo "- Date: $today"
    echo
    echo "| round | tasks | succeeded | wall s | tasks/s | CPU ms / task | agent CPU % of a core | RSS median MiB | RSS peak MiB |"
    echo "|---|---|---|---|---|---|---|---|---|"
    grep '^footprint round' "$work/footprint.txt" | while read -r l; do
      echo "| $(field round "$l") | $(field tasks "$l") | $(field succeeded "$l") | $(field wall_s "$l") | $(field tasks_per_s "$l") | $(field cpu_ms_per_task "$l") | $(field cpu_pct "$l") | $(field rss_median_mib "$l") | $(field rss_peak_mib "$l") |"
    done
    echo
    echo "Median CPU per device task: **$cpt ms**; steady RSS while working (median of rounds): **$rssm MiB**;"
    echo "peak RSS over the whole run: **$(field rss_peak_all_mib "$tail_line") MiB**; RSS 10 s after the last round: $(field rss_after_mib "$tail_line") MiB."
    echo
    contention
  } >"$work/section-footprint.md"
  write_section "Agent footprint" "$work/section-footprint.md"
fi
