-- wrk script for the "Callback ingest" floor (bench/throughput.sh): each request is one callback of one
-- step event, shaped as Harness.Bench's ingest sends it, to `Harness.Bench floor-server`. A fifth of the
-- requests repeat an event_id the same thread already sent. Ids are "<FLOOR_TAG>-<thread>-<n>".
local tag = os.getenv("FLOOR_TAG") or "wrk"
local threads = 0
function setup(thread)
  thread:set("tid", threads)
  threads = threads + 1
end

local sent = 0
request = function()
  local n
  if sent > 0 and math.random() < 0.2 then
    n = math.random(sent)
  else
    sent = sent + 1
    n = sent
  end
  local body = string.format('{"events":[{"event_id":"%s-%d-%d","type":"step","at":"2026-01-01T00:00:00Z",'
    .. '"run_id":"00000000-0000-0000-0000-000000000001","device_id":"BENCH-floor-dev%04d","attempt":1,'
    .. '"step":{"step_id":"s1","type":"report","status":"succeeded","attempt":1,'
    .. '"started_at":"2026-01-01T00:00:00Z","finished_at":"2026-01-01T00:00:00Z","duration_ms":0}}]}', tag, tid, n, tid)
  return wrk.format("POST", "/api/nodes/callback",
    { ["Content-Type"] = "application/json", ["Authorization"] = "Bearer floor-key-0123456789abcdef" }, body)
end

function done(summary, latency, requests)
  io.write(string.format("RESULT requests=%d non2xx=%d errors=%d events_per_s=%.0f p50_ms=%.2f p99_ms=%.2f\n",
    summary.requests, summary.errors.status,
    summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout,
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000))
end
