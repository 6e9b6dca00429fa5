#!/usr/bin/env python3
"""Drives a running Harness (server + agent + devicesim) for bench/dispatch.sh; prints key=value results."""
import json, statistics, sys, time, urllib.request
from datetime import datetime

url, token, devices, samples = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])

def call(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(url + path, data=data, method=method,
                                 headers={"Authorization": "Bearer " + token, "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=60) as r:
        return json.loads(r.read() or b"null")

def ts(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00"))

def wait_end(run_id, timeout=600):
    deadline = time.time() + timeout
    while time.time() < deadline:
        run = call("GET", f"/api/runs/{run_id}")
        if run["run"]["status"] in ("succeeded", "failed", "cancelled"):
            return run
        time.sleep(0.05)
    raise SystemExit(f"run {run_id} did not end")

while call("GET", "/api/nodes/status")["online"] < devices:
    time.sleep(0.2)

ping = call("POST", "/api/workflows", {"name": "bench-ping", "steps": [{"id": "pre", "type": "preflight"}]})
latencies = []
for i in range(samples):
    created = call("POST", "/api/runs", {"workflow_id": ping["workflow_id"], "target": {"device_ids": ["SIM-0001"]}})
    run = wait_end(created["run_id"])
    device = run["devices"][0]
    assert device["status"] == "succeeded", device
    latencies.append((ts(device["started_at"]) - ts(run["run"]["created_at"])).total_seconds() * 1000)
latencies.sort()
p95 = latencies[min(len(latencies) - 1, int(0.95 * len(latencies) + 0.5) - 1)]
print(f"latency samples={samples} p50_ms={statistics.median(latencies):.1f} p95_ms={p95:.1f} max_ms={latencies[-1]:.1f}")

with open(sys.argv[5]) as f:
    capture = json.load(f)
capture["name"] = "bench-capture"
wf = call("POST", "/api/workflows", capture)
created = call("POST", "/api/runs", {"workflow_id": wf["workflow_id"], "target": {"all": True}, "concurrency": devices, "vars": {"user": "bench"}})
run = wait_end(created["run_id"])
counts = run["run"]["counts"]
assert counts["succeeded"] == devices, counts
wall = (ts(run["run"]["finished_at"]) - ts(run["run"]["created_at"])).total_seconds()
durations = sorted((ts(d["finished_at"]) - ts(d["started_at"])).total_seconds() * 1000 for d in run["devices"])
print(f"throughput devices={devices} wall_s={wall:.2f} tasks_per_s={devices / wall:.1f} steps_per_s={devices * 6 / wall:.1f} "
      f"task_p50_ms={statistics.median(durations):.0f} task_max_ms={durations[-1]:.0f} artifacts={sum(len(d['artifacts']) for d in run['devices'])}")
