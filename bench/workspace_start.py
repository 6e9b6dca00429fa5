#!/usr/bin/env python3
"""Workspace start through Harness against a plain `docker run -d` of the same image on the same engine.

Usage: workspace_start.py SERVER_URL ADMIN_TOKEN DOCKER_SOCKET ROUNDS IMAGE

Each round, alternating so both see the same machine state:
  harness: POST /api/workspaces/bench/stop (not timed), then timed POST /api/workspaces/bench/start,
           which returns when the instance is running and its port accepts connections;
  plain:   remove the container (not timed), then timed create + start through the Engine API
           (what `docker run -d` does) with the same image, volume, limits and host networking,
           until its port accepts connections.
Prints one line: `start harness_p50_ms=… plain_p50_ms=… ratio=… …`.
"""
import http.client
import json
import socket
import statistics
import sys
import time
import urllib.request

server, token, sock_path, rounds, image = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4]), sys.argv[5]


def api(method, path, body=None):
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(server + path, data=data, method=method,
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=120) as response:
        return json.loads(response.read() or b"null")


class UnixConnection(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("docker")
        self.path_ = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.connect(self.path_)


def engine(method, path, body=None):
    connection = UnixConnection(sock_path)
    connection.request(method, path, None if body is None else json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    data = response.read()
    connection.close()
    return response.status, (json.loads(data) if data else None)


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_accepts(port, deadline_s=15):
    end = time.monotonic() + deadline_s
    while time.monotonic() < end:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return
        except OSError:
            time.sleep(0.005)
    raise RuntimeError(f"nothing accepts on {port}")


created = api("POST", "/api/workspaces", {"name": "bench", "image": image, "cpu": 1, "memory_mb": 256})
assert created["status"] == "running", created
engine("POST", "/volumes/create", {"Name": "bench-plain-vol"})

harness_ms, plain_ms = [], []
for i in range(rounds + 1):
    api("POST", "/api/workspaces/bench/stop")
    t = time.perf_counter()
    started = api("POST", "/api/workspaces/bench/start")
    elapsed = (time.perf_counter() - t) * 1000
    assert started["status"] == "running", started

    engine("DELETE", "/containers/bench-plain?force=1")
    port = free_port()
    t = time.perf_counter()
    status, body = engine("POST", "/containers/create?name=bench-plain", {
        "Image": image, "Env": [f"PORT={port}", "HOST=127.0.0.1"],
        "HostConfig": {"NetworkMode": "host", "Init": True, "NanoCPUs": 1_000_000_000, "Memory": 256 * 1024 * 1024,
                       "PidsLimit": 512, "Mounts": [{"Type": "volume", "Source": "bench-plain-vol", "Target": "/workspace"}]},
    })
    assert status == 201, body
    status, body = engine("POST", f"/containers/{body['Id']}/start")
    assert status == 204, body
    wait_accepts(port)
    plain = (time.perf_counter() - t) * 1000
    if i > 0:  # the first round warms both paths up
        harness_ms.append(elapsed)
        plain_ms.append(plain)

engine("DELETE", "/containers/bench-plain?force=1")
engine("DELETE", "/volumes/bench-plain-vol")
urllib.request.urlopen(urllib.request.Request(server + "/api/workspaces/bench", method="DELETE",
                                              headers={"Authorization": f"Bearer {token}"}), timeout=120)
h, p = statistics.median(harness_ms), statistics.median(plain_ms)
ratios = sorted(a / b for a, b in zip(harness_ms, plain_ms))
print(f"start rounds={rounds} harness_p50_ms={h:.1f} harness_min_ms={min(harness_ms):.1f} harness_max_ms={max(harness_ms):.1f} "
      f"plain_p50_ms={p:.1f} plain_min_ms={min(plain_ms):.1f} plain_max_ms={max(plain_ms):.1f} "
      f"ratio={h / p:.2f} paired_ratio_p50={statistics.median(ratios):.2f}")
