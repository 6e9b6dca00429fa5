-- wrk script: each request is one agent's heartbeat with its device inventory. Agents are
-- taken round-robin from keys.txt (one key per line, written by heartbeat.sh), so the load
-- looks like a fleet, not one agent hammering its own row.
local keys = {}
for line in io.lines(os.getenv("BENCH_KEYS")) do keys[#keys + 1] = line end
local devices = tonumber(os.getenv("BENCH_DEVICES") or "20")
local bodies = {}
for i = 1, #keys do
  local parts = {}
  for d = 1, devices do
    parts[#parts + 1] = string.format(
      '{"device_id":"A%03d-D%03d","runtime_handle":"emulator-%d","model":"Pixel 7","state":"ready"}', i, d, 5554 + 2 * d)
  end
  bodies[i] = '{"version":"bench","vendor_ws_ok":true,"current_load":0,"capacity":20,"devices":[' .. table.concat(parts, ",") .. ']}'
end

local counter = 0
function setup(thread)
  thread:set("offset", counter)
  counter = counter + 1
end

local n = 0
request = function()
  n = n + 1
  local i = ((n * 7 + offset) % #keys) + 1
  return wrk.format("POST", "/api/nodes/heartbeat",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer " .. keys[i] }, bodies[i])
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d errors=%d non2xx=%d duration_s=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.errors.status, summary.duration / 1e6, summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(90) / 1000, latency:percentile(99) / 1000, latency.max / 1000))
end
