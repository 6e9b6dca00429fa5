#!/usr/bin/env python3
"""Turns bench/throughput.sh's result lines into the Markdown sections and gnuplot scripts."""
import argparse
import statistics
from collections import defaultdict

p = argparse.ArgumentParser()
p.add_argument("results")
p.add_argument("work")
for name in ["machine", "command", "date", "tasks", "hangfire-jobs", "rounds", "agents", "slots", "workers", "pgbench-seconds", "ingest-events", "server-rss"]:
    p.add_argument("--" + name, required=True)
a = p.parse_args()

rows = []
for line in open(a.results):
    parts = line.split()
    if not parts:
        continue
    fields = dict(kv.split("=", 1) for kv in parts[1:] if "=" in kv)
    fields["kind"] = parts[0]
    rows.append(fields)


def median(values):
    values = [float(v) for v in values if v not in (None, "")]
    return statistics.median(values) if values else float("nan")


clients = [1, 8, 32]
ceiling = {(s, c): median(r["tps"] for r in rows if r["kind"] == "ceiling" and r["script"] == s and int(r["clients"]) == c)
           for s in ["insert", "claim"] for c in clients}
drain = defaultdict(list)
for r in rows:
    if r["kind"] == "drain":
        drain[r["system"]].append(r)
systems = ["harness", "floor", "floor-group", "hangfire", "graphile"]
rate = {"harness": "tasks_per_s", "floor": "tasks_per_s", "floor-group": "tasks_per_s", "hangfire": "jobs_per_s", "graphile": "jobs_per_s"}
floors = ["floor", "floor-wrk", "floor-group", "floor-group-wrk"]
drain_median = {s: median(r.get(rate[s]) for r in drain[s]) for s in systems}
wall_median = {s: median(r.get("wall_s") for r in drain[s]) for s in systems}
commits_per_task = median(r.get("commits_per_task") for r in drain["harness"])
# Rows without a system are Harness's (results written before the floor was measured).
ingest_all = {(s, c): [r for r in rows if r["kind"] == "ingest" and r.get("system", "harness") == s and int(r["clients"]) == c]
              for s in ["harness", *floors] for c in clients}
ingest = {c: ingest_all[("harness", c)] for c in clients}
ingest_median = {c: median(r.get("events_per_s") for r in ingest[c]) for c in clients}
floor_median = {(s, c): median(r.get("events_per_s") for r in ingest_all[(s, c)]) for s in floors for c in clients}
exact = all(r.get("exactly_once") == "yes" for c in clients for r in ingest[c]) and all(ingest[c] for c in clients)
rounds = int(a.rounds)


def head(title, intro):
    return [f"## {title}", "", *intro, "",
            f"- Machine: {a.machine}",
            f"- Command: `{a.command}`",
            f"- Date: {a.date}",
            f"- Medians of {rounds} round(s); the order alternates between rounds. Server, PostgreSQL, the peers and the",
            "  load tools share the machine's cores, so absolute figures move between runs; the ratios within one run are the point.",
            ""]


def fmt(x, digits=0):
    return "n/a" if x != x else f"{x:,.{digits}f}"


def met(ok):
    return "**met**" if ok else "**not met**"


out = head("Ceiling", [
    "What this PostgreSQL can do at all, measured with `pgbench` custom scripts (prepared statements,",
    f"{a.pgbench_seconds} s per point): a single-row `INSERT … ON CONFLICT DO NOTHING` into a table shaped like",
    "`callback_events` (unique `event_id`), and a `FOR UPDATE SKIP LOCKED` claim of one queued row plus its",
    "update (a queue table of 1,000,000 rows, refilled before each point). Every statement is its own commit.",
])
out += ["| clients | insert … on conflict tps | skip-locked claim + update tps |", "|---|---|---|"]
out += [f"| {c} | {fmt(ceiling[('insert', c)])} | {fmt(ceiling[('claim', c)])} |" for c in clients]
out += ["", "![Ceiling: tps by clients](images/bench-ceiling.png)", "",
        "No target: these are the reference rates for the drain and the ingest below.", ""]
open(f"{a.work}/section-Ceiling.md", "w").write("\n".join(out))

h, fl, fg, hf, gw = (drain_median[s] for s in systems)
out = head("Drain", [
    f"{int(a.tasks):,} device tasks through `harness server`'s real HTTP path: {a.agents} simulated agents",
    "(`bench/Harness.Bench drain`) enroll, heartbeat their devices (1,000 devices in all, "
    f"{int(a.tasks) // 1000 if int(a.tasks) >= 1000 else 1} runs of a one-step",
    f"workflow on all of them), then long-poll `POST /api/nodes/pull` holding up to {a.slots} tasks each and post",
    "each finished task's events (running, the step, succeeded) in one `POST /api/nodes/callback` per task —",
    f"unbatched across tasks. Peers on the same PostgreSQL, no-op jobs ({int(a.tasks):,} for graphile-worker, {int(a.hangfire_jobs):,}",
    f"for Hangfire) with {a.workers} workers each:",
    "Hangfire 1.8.25 on Hangfire.PostgreSql 1.21.1 (`bench/peers/hangfire`, queue poll 50 ms, otherwise defaults)",
    "and graphile-worker 0.18.0 (`bench/peers/graphile-worker`, `add_job` in one statement, library defaults).",
    "Jobs/s is counted from the first pickup to the last completion (Harness: the last callback answered;",
    "Hangfire: the storage lists every job succeeded; graphile-worker: its jobs table is empty). Commits per",
    "task: the Harness database's `pg_stat_database.xact_commit` delta over the drain (read-only",
    "statements outside a transaction count as commits too) divided by the tasks.",
    "",
    "The **HTTP floor** is `Harness.Bench floor-server` driven by the same load tool and agents: Harness's routes",
    "and JSON contracts, each request one autocommitted statement (a pull claims its free slots with the",
    "ceiling's `FOR UPDATE SKIP LOCKED`; a callback inserts its event_ids and marks the task done), and",
    "nothing else: no authentication, validation, leases, attempts, runs or steps. It is the most a server of",
    "this HTTP protocol that commits each request on its own could drain here with these simulated agents.",
    "The **grouped floor** (`floor-server --group yes`) is the same server with a group commit: the pulls waiting",
    "at once share one claim statement (dealt out in arrival order), and so do the callbacks (one insert of all",
    "their event_ids and one update of the tasks they end); each request is answered when its group's statement returns.",
])
out += ["| system | jobs/s (median) | wall s (median) | rounds |", "|---|---|---|---|"]
names = {"harness": "Harness (HTTP pull/lease/callback)", "floor": "HTTP floor (same agents, one statement a request)",
         "floor-group": "HTTP floor, grouped (same agents, one statement a group of requests)",
         "hangfire": "Hangfire + Hangfire.PostgreSql", "graphile": "graphile-worker"}
for s in systems:
    out.append(f"| {names[s]} | {fmt(drain_median[s])} | {fmt(wall_median[s], 1)} | {len(drain[s])} |")
out += ["", "![Drain: jobs/s by system](images/bench-drain.png)", "",
        "| target | measured | result |", "|---|---|---|",
        f"| Harness ≥ 10× Hangfire | {fmt(h / hf, 2)}× | {met(h >= 10 * hf)} |",
        f"| Harness ≥ 1× graphile-worker | {fmt(h / gw, 3)}× | {met(h >= gw)} |",
        f"| ≤ 3 database commits per task | {fmt(commits_per_task, 2)} | {met(commits_per_task <= 3)} |",
        "",
        f"The floor itself drains {fmt(fl / hf, 2)}× Hangfire and {fmt(fl / gw, 2)}× graphile-worker; Harness drains {fmt(h / fl, 2)}× the floor.",
        f"The grouped floor drains {fmt(fg / hf, 2)}× Hangfire and {fmt(fg / gw, 2)}× graphile-worker, {fmt(fg / fl, 2)}× the floor per request.",
        "",
        ]
if int(a.tasks) < 50000 or int(a.hangfire_jobs) < 50000:
    out += [f"**Smaller than the issue's 50,000:** this run drained {int(a.tasks):,} Harness tasks and graphile-worker jobs and",
            f"{int(a.hangfire_jobs):,} Hangfire jobs per round. At the rates above, 50,000 Harness tasks take about {50000 / h / 60:.0f} min per",
            f"round on this machine and 50,000 Hangfire jobs about {50000 / hf / 60:.0f} min (it enqueues at roughly its drain rate); jobs/s is a steady-state rate",
            "(first pickup to last completion), so the comparison holds, but the full-size run is still to be recorded.", ""]
out += ["**Where Harness's time goes** (`bench/drain-profile.sh`: this drain with pg_stat_statements and the CPU",
        "seconds of each process; figures in [Drain profile](#drain-profile)): the machine is saturated and the server",
        "takes most of it, in CPU per task spread thinly over the framework (EF Core's query and save pipelines,",
        "Npgsql, ASP.NET Core, the garbage collector); no statement waits for a lock. Callbacks and claims are",
        "committed in groups (`Harness:Dispatch:CallbackWriters` and `ClaimWriters`, 2 each): the requests waiting",
        "while a writer is busy share its next transaction, with one lock of the device-state rows, one insert of",
        "the events or one read of the queued tasks, one save and one commit. They hold the dispatch lock",
        "(`HarnessLock.Dispatch`) shared, one claim per agent at a time (and per run of bounded concurrency), and",
        "move their run's counters without waiting for its row (`run_counter_moves`); the lease sweeper, cancels",
        "and releases hold it exclusively. The floor rows above are what is left once all of that is gone.", "",
        f"Server RSS at the end of the run: {a.server_rss} MiB. Every round's raw line:", "", "```"]
out += [" ".join(f"{k}={v}" for k, v in r.items() if k not in ("kind",)) for s in systems for r in drain[s]]
out += ["```", ""]
open(f"{a.work}/section-Drain.md", "w").write("\n".join(out))

out = head("Callback ingest", [
    f"{int(a.ingest_events):,} `POST /api/nodes/callback` requests of one `step` event each, from 1, 8 and 32",
    "concurrent senders (`bench/Harness.Bench ingest`; each sender reports on its own leased device), 20% of",
    "them repeating an event_id the same sender already posted. Compared with the ceiling's",
    "`INSERT … ON CONFLICT DO NOTHING` rate at the same concurrency. Afterwards SQL checks",
    "`count(*) = count(DISTINCT event_id) = unique ids sent` in `callback_events` for that agent.",
    "",
    "Beside Harness, the **HTTP floor**: `Harness.Bench floor-server`, an ASP.NET Core endpoint that parses the",
    "same callback with the contract's JSON and runs one autocommitted `INSERT … ON CONFLICT DO NOTHING` of its",
    "event_id, and nothing else (no authentication, validation, run or device state). It is driven by the same",
    "load tool, and by wrk (`bench/ingest-floor.lua`, a C client as pgbench is) for as long as the load tool's",
    "floor run took. The floor is the most an HTTP ingest that commits each callback on its own could reach here.",
    "The **grouped floor** (`floor-server --group yes`) inserts the event_ids of all the callbacks waiting at once",
    "in one statement (a group commit), and answers each when it returns; driven the same two ways.",
])
out += ["| senders | Harness callbacks/s (median) | floor, load tool | floor, wrk | grouped floor, load tool | grouped floor, wrk | ceiling insert tps | Harness ÷ ceiling | target ≥ 0.5× | floor (wrk) ÷ ceiling | grouped floor (wrk) ÷ ceiling | Harness ÷ floor (load tool) | one row per event_id |",
        "|---|---|---|---|---|---|---|---|---|---|---|---|---|"]
for c in clients:
    top = ceiling[("insert", c)]
    ratio = ingest_median[c] / top
    ok = all(r.get("exactly_once") == "yes" for r in ingest[c]) and ingest[c]
    floor, floor_wrk, group, group_wrk = (floor_median[(s, c)] for s in floors)
    out.append(f"| {c} | {fmt(ingest_median[c])} | {fmt(floor)} | {fmt(floor_wrk)} | {fmt(group)} | {fmt(group_wrk)} | {fmt(top)} | {fmt(ratio, 3)}× | {met(ratio >= 0.5)}"
               f" | {fmt(floor_wrk / top, 2)}× | {fmt(group_wrk / top, 2)}× | {fmt(ingest_median[c] / floor, 2)}× | {'yes' if ok else 'no'} |")
out += ["", "![Callback ingest against the insert ceiling](images/bench-ingest.png)", "",
        f"Exactly one row per event_id in every round: {'yes' if exact else 'no'}. Duplicates are answered `duplicate` and",
        "change nothing. The callbacks waiting while a writer is busy share its next transaction (a group commit,",
        "`Harness:Dispatch:CallbackWriters`, 2 by default): one batch locks their device states (holding the dispatch",
        "lock shared) and reads their steps; one statement inserts their events, skipping the ids already stored;",
        "one save and one commit serve the group. Each callback still pays for its HTTP request, the agent's",
        "authentication and its validation, on the 2 cores the server shares with PostgreSQL and the load tool.", "", "```"]
out += [" ".join(f"{k}={v}" for k, v in r.items() if k != "kind") for s in ["harness", *floors] for c in clients for r in ingest_all[(s, c)]]
out += ["```", ""]
open(f"{a.work}/section-Callback-ingest.md", "w").write("\n".join(out))

common = 'set terminal png size 800,450 font ",11"\nset grid ytics\nset key top left\n'
with open(f"{a.work}/ceiling.dat", "w") as f:
    for i, c in enumerate(clients):
        f.write(f"{i} {c} {ceiling[('insert', c)]} {ceiling[('claim', c)]} {ingest_median[c]} {' '.join(str(floor_median[(s, c)]) for s in floors)}\n")
with open(f"{a.work}/drain.dat", "w") as f:
    for i, s in enumerate(systems):
        short = {"harness": "Harness", "floor": "HTTP floor", "floor-group": "floor, grouped", "hangfire": "Hangfire", "graphile": "graphile-worker"}
        f.write(f'{i} "{short[s]}" {drain_median[s]}\n')
open(f"{a.work}/ceiling.gp", "w").write(common + f"""set output "docs/images/bench-ceiling.png"
set title "Ceiling: pgbench tps ({a.date})"
set xlabel "clients"; set ylabel "tps"; set yrange [0:*]
plot "{a.work}/ceiling.dat" using 1:3:xtic(2) with linespoints lw 2 title "INSERT ... ON CONFLICT DO NOTHING", \\
     "" using 1:4:xtic(2) with linespoints lw 2 title "SKIP LOCKED claim + UPDATE"
""")
open(f"{a.work}/drain.gp", "w").write(common + f"""set output "docs/images/bench-drain.png"
set title "Drain: {int(a.tasks):,} tasks/jobs, jobs/s (median of {rounds}) ({a.date})"
set style fill solid 0.6; set boxwidth 0.6; set ylabel "jobs/s"; set yrange [0:*]; unset key
plot "{a.work}/drain.dat" using 1:3:xtic(2) with boxes, "" using 1:3:(sprintf("%.0f", $3)) with labels offset 0,1
""")
open(f"{a.work}/ingest.gp", "w").write(common + f"""set output "docs/images/bench-ingest.png"
set title "Callback ingest (20% duplicates) vs insert ceiling ({a.date})"
set xlabel "concurrent senders"; set ylabel "per second"; set logscale y; set key below
plot "{a.work}/ceiling.dat" using 1:3:xtic(2) with linespoints lw 2 title "ceiling: INSERT ... ON CONFLICT tps", \\
     "" using 1:(0.5*$3):xtic(2) with lines dt 2 title "target: 0.5 x ceiling", \\
     "" using 1:7:xtic(2) with linespoints lw 2 title "HTTP floor (parse + insert), wrk", \\
     "" using 1:6:xtic(2) with linespoints lw 2 title "HTTP floor, load tool", \\
     "" using 1:9:xtic(2) with linespoints lw 2 title "HTTP floor grouped, wrk", \\
     "" using 1:8:xtic(2) with linespoints lw 2 title "HTTP floor grouped, load tool", \\
     "" using 1:5:xtic(2) with linespoints lw 2 title "Harness callbacks/s"
""")
