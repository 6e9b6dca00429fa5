using System.Collections.Concurrent;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Http.Json;
using Harness.Client;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Nodes;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;

// Simulates many agents (and operators) against a running `harness server` for bench/fleet.sh.
//   pickup: idle long-polling agents; single-device runs at a fixed interval; commit-to-agent latency
//   idle:   idle long-polling agents only, until killed; writes --ready-file when all are polling
//   fleet:  agents heartbeating their devices, dashboards polling, tasks flowing; latencies per endpoint
// Prints one `key=value` line per result; every time is taken on this host's monotonic clock.
var opts = Options.Parse(args);
using var handler = new SocketsHttpHandler
{
    MaxConnectionsPerServer = 100_000,
    PooledConnectionIdleTimeout = TimeSpan.FromMinutes(5),
    // Like a browser or `curl --compressed`: the device listings of a large fleet come gzip-compressed.
    AutomaticDecompression = DecompressionMethods.GZip,
};
using var http = new HttpClient(handler) { BaseAddress = new Uri(opts.Get("url")), Timeout = TimeSpan.FromSeconds(120) };
var fleet = new Fleet(http, opts);
return opts.Mode switch
{
    "pickup" => await fleet.PickupAsync(),
    "idle" => await fleet.IdleAsync(),
    "fleet" => await fleet.FleetAsync(),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Harness.Fleet pickup|idle|fleet --url URL --admin TOKEN --secret SECRET [--agents N] ...");
    return 2;
}

/// <summary>Latency samples of one kind; percentiles from the sorted array.</summary>
internal sealed class Samples
{
    private readonly List<double> _ms = [];
    private int _errors;

    public void Add(double ms)
    {
        lock (_ms)
        {
            _ms.Add(ms);
        }
    }

    public void Error() => Interlocked.Increment(ref _errors);

    public int Count => _ms.Count;

    public int Errors => _errors;

    public double[] Sorted()
    {
        lock (_ms)
        {
            var a = _ms.ToArray();
            Array.Sort(a);
            return a;
        }
    }

    public static double Pct(double[] sorted, double p) =>
        sorted.Length == 0 ? double.NaN : sorted[Math.Clamp((int)Math.Ceiling(p / 100 * sorted.Length) - 1, 0, sorted.Length - 1)];

    public string Summary(string prefix)
    {
        var s = Sorted();
        return string.Create(CultureInfo.InvariantCulture,
            $"{prefix}_n={s.Length} {prefix}_errors={_errors} {prefix}_p50_ms={Pct(s, 50):F1} {prefix}_p99_ms={Pct(s, 99):F1} {prefix}_max_ms={(s.Length == 0 ? double.NaN : s[^1]):F1}");
    }
}

internal sealed record SimAgent(int Index, string Name, string Key, IReadOnlyList<string> DeviceIds, byte[] HeartbeatBody);

internal sealed class Fleet(HttpClient http, Options opts)
{
    private static HarnessJsonContext Json => HarnessJsonContext.Default;

    private readonly HarnessNodeClient _node = new(http);
    private readonly HarnessApiClient _api = new(http, opts.Get("admin"));
    private readonly string _secret = opts.Get("secret");
    private readonly string _tag = opts.Get("tag", DateTime.UtcNow.ToString("HHmmss", CultureInfo.InvariantCulture));
    private readonly int _waitMs = opts.Int("wait-ms", 20_000);

    /// <summary>Run id → Stopwatch timestamp when an agent's pull response carried it.</summary>
    private readonly ConcurrentDictionary<Guid, long> _received = new();

    private volatile bool _measuring;
    /// <summary>When the measured window began: a request is measured only if it began inside the window.</summary>
    private long _measuredFrom = long.MaxValue;
    private readonly Samples _heartbeats = new(), _pulls = new(), _callbacks = new(), _creates = new();
    private readonly Dictionary<string, Samples> _reads = new(StringComparer.Ordinal)
    {
        [Routes.Dashboard] = new(), [Routes.Devices] = new(), [Routes.NodesStatus] = new(),
    };
    private long _tasksDone;

    private static double Ms(long from, long to) => (to - from) * 1000.0 / Stopwatch.Frequency;

    /// <summary>
    /// A request that began at <paramref name="t0"/> counts: it began inside the measured window, which is still open.
    /// One that began during the warm-up and ended inside the window would carry the warm-up into it.
    /// </summary>
    private bool Measured(long t0) => _measuring && t0 >= Interlocked.Read(ref _measuredFrom);

    public async Task<int> PickupAsync()
    {
        var agents = await EnrollAsync(opts.Int("agents", 20), 1);
        var samples = opts.Int("samples", 200);
        var interval = TimeSpan.FromMilliseconds(opts.Int("interval-ms", 50));
        using var stop = new CancellationTokenSource();
        var loops = agents.Select(a => PullLoopAsync(a, 1, 0, stop.Token)).ToList();
        var workflow = await PingWorkflowAsync();
        await Task.Delay(TimeSpan.FromSeconds(opts.Double("warmup-sec", 3)));
        // Warm-up runs, not measured: the first passes through run creation, claim and callbacks pay
        // for the JIT (a few hundred ms each), which is start-up cost, not pickup latency.
        for (var i = 0; i < opts.Int("warmup-runs", 40); i++)
        {
            await _api.CreateRunAsync(new CreateRunRequest(workflow, Target: new RunTarget(DeviceIds: [agents[i % agents.Count].DeviceIds[0]])));
            await Task.Delay(interval);
        }
        await Task.Delay(TimeSpan.FromSeconds(1));
        var fromResponse = new List<double>();
        var fromRequest = new List<double>();
        var next = Stopwatch.GetTimestamp();
        var pending = new List<(Guid Run, long Sent, long Answered)>();
        for (var i = 0; i < samples; i++)
        {
            var agent = agents[i % agents.Count];
            var sent = Stopwatch.GetTimestamp();
            var created = await _api.CreateRunAsync(new CreateRunRequest(workflow, Target: new RunTarget(DeviceIds: [agent.DeviceIds[0]])));
            pending.Add((created.RunId, sent, Stopwatch.GetTimestamp()));
            next += (long)(interval.TotalSeconds * Stopwatch.Frequency);
            var sleep = next - Stopwatch.GetTimestamp();
            if (sleep > 0)
            {
                await Task.Delay(TimeSpan.FromSeconds((double)sleep / Stopwatch.Frequency));
            }
        }
        var deadline = Stopwatch.GetTimestamp() + 10 * Stopwatch.Frequency;
        while (pending.Any(p => !_received.ContainsKey(p.Run)) && Stopwatch.GetTimestamp() < deadline)
        {
            await Task.Delay(50);
        }
        var lost = 0;
        foreach (var (run, sent, answered) in pending)
        {
            if (!_received.TryGetValue(run, out var got))
            {
                lost++;
                continue;
            }
            fromResponse.Add(Ms(answered, got));
            fromRequest.Add(Ms(sent, got));
        }
        await stop.CancelAsync();
        if (opts.Get("out", "") is { Length: > 0 } path)
        {
            // In the order the runs were created, so a slow stretch shows where it happened.
            await File.WriteAllLinesAsync(path, fromResponse.Select(v => v.ToString("F3", CultureInfo.InvariantCulture)));
        }
        fromResponse.Sort();
        fromRequest.Sort();
        var r = fromResponse.ToArray();
        var q = fromRequest.ToArray();
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"pickup agents={agents.Count} samples={samples} lost={lost} p50_ms={Samples.Pct(r, 50):F2} p99_ms={Samples.Pct(r, 99):F2} max_ms={(r.Length > 0 ? r[^1] : double.NaN):F2} min_ms={(r.Length > 0 ? r[0] : double.NaN):F2} req_p50_ms={Samples.Pct(q, 50):F2} req_p99_ms={Samples.Pct(q, 99):F2}"));
        return lost == 0 ? 0 : 1;
    }

    public async Task<int> IdleAsync()
    {
        var agents = await EnrollAsync(opts.Int("agents", 100), 1);
        using var stop = new CancellationTokenSource();
        var loops = agents.Select(a => PullLoopAsync(a, 1, 0, stop.Token)).ToList();
        await Task.Delay(TimeSpan.FromSeconds(opts.Double("warmup-sec", 5)));
        _measuring = true;
        await File.WriteAllTextAsync(opts.Get("ready-file"), "ready\n");
        var started = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(opts.Double("seconds", 300)));
        var seconds = Ms(started, Stopwatch.GetTimestamp()) / 1000;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"idle agents={agents.Count} seconds={seconds:F1} pulls_per_s={_pulls.Count / seconds:F2} {_pulls.Summary("pull")}"));
        await stop.CancelAsync();
        return 0;
    }

    public async Task<int> FleetAsync()
    {
        var devices = opts.Int("devices", 100);
        var agents = await EnrollAsync(opts.Int("agents", 100), devices);
        var hbPeriod = TimeSpan.FromSeconds(opts.Double("hb-sec", 5));
        var taskMs = opts.Int("task-ms", 2000);
        using var stop = new CancellationTokenSource();
        var loops = new List<Task>();
        loops.AddRange(agents.Select(a => HeartbeatLoopAsync(a, hbPeriod, stop.Token)));
        loops.AddRange(agents.Select(a => PullLoopAsync(a, devices, taskMs, stop.Token)));
        var workflow = await PingWorkflowAsync();
        await Task.Delay(TimeSpan.FromSeconds(opts.Double("warmup-sec", 10)));
        loops.AddRange(Enumerable.Range(0, opts.Int("dashboards", 20)).Select(i => DashboardLoopAsync(i, TimeSpan.FromSeconds(opts.Double("dash-sec", 5)), stop.Token)));
        loops.Add(RunCreatorAsync(agents, workflow, opts.Double("runs-per-sec", 5), stop.Token));
        // Two polls of every dashboard before the window: the first reads of the fleet's listings (a read in the
        // foreground, the first serialization and compression, their JIT) are a start-up cost, not the steady state.
        await Task.Delay(TimeSpan.FromSeconds(Math.Max(2, 2 * opts.Double("dash-sec", 5))));
        var serverPid = opts.Int("server-pid", 0);
        var cpu0 = ProcCpuTicks(serverPid);
        var self0 = Process.GetCurrentProcess().TotalProcessorTime;
        var started = Stopwatch.GetTimestamp();
        Interlocked.Exchange(ref _measuredFrom, started);
        _measuring = true;
        await Task.Delay(TimeSpan.FromSeconds(opts.Double("seconds", 60)));
        _measuring = false;
        var seconds = Ms(started, Stopwatch.GetTimestamp()) / 1000;
        var cpu = (ProcCpuTicks(serverPid) - cpu0) / 100.0 / seconds / Environment.ProcessorCount * 100;
        var self = (Process.GetCurrentProcess().TotalProcessorTime - self0).TotalSeconds / seconds / Environment.ProcessorCount * 100;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"fleet agents={agents.Count} devices={agents.Count * devices} seconds={seconds:F1} server_cpu_pct={cpu:F1} tool_cpu_pct={self:F1} " +
            $"heartbeats_per_s={_heartbeats.Count / seconds:F1} tasks_per_s={Interlocked.Read(ref _tasksDone) / seconds:F1} " +
            $"{_heartbeats.Summary("hb")} {_reads[Routes.Dashboard].Summary("dash")} {_reads[Routes.Devices].Summary("devices")} " +
            $"{_reads[Routes.NodesStatus].Summary("status")} {_pulls.Summary("pull")} {_callbacks.Summary("cb")} {_creates.Summary("create")}"));
        await stop.CancelAsync();
        return 0;
    }

    private static long ProcCpuTicks(int pid)
    {
        if (pid <= 0)
        {
            return 0;
        }
        var stat = File.ReadAllText($"/proc/{pid}/stat");
        var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
        return long.Parse(fields[11], CultureInfo.InvariantCulture) + long.Parse(fields[12], CultureInfo.InvariantCulture); // utime + stime
    }

    private async Task<Guid> PingWorkflowAsync()
    {
        var created = await _api.PushWorkflowJsonAsync($$"""{"name":"fleet-ping-{{_tag}}","steps":[{"id":"pre","type":"preflight"}]}""");
        return created.WorkflowId;
    }

    private async Task<List<SimAgent>> EnrollAsync(int count, int devices)
    {
        var agents = new SimAgent[count];
        using var gate = new SemaphoreSlim(16);
        await Task.WhenAll(Enumerable.Range(0, count).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var name = $"FL{_tag}-{i:D4}";
                var credential = await _node.EnrollAsync(new EnrollRequest(name, Capacity: devices, Version: "fleet"), _secret, CancellationToken.None);
                var ids = Enumerable.Range(1, devices).Select(j => $"{name}-D{j:D3}").ToList();
                var request = new HeartbeatRequest(Version: "fleet", VendorWsOk: true, CurrentLoad: 0, Capacity: devices,
                    Devices: ids.Select(id => new DeviceReport(id, Model: "sim", State: DeviceState.Ready)).ToList());
                var body = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes(request, Json.HeartbeatRequest);
                var agent = new SimAgent(i, name, credential.ApiKey, ids, body);
                await HeartbeatAsync(agent, CancellationToken.None);
                agents[i] = agent;
            }
            finally
            {
                gate.Release();
            }
        }));
        return [.. agents];
    }

    private async Task HeartbeatAsync(SimAgent agent, CancellationToken cancellationToken)
    {
        using var request = new HttpRequestMessage(HttpMethod.Post, Routes.NodesHeartbeat) { Content = new ByteArrayContent(agent.HeartbeatBody) };
        request.Content.Headers.ContentType = new MediaTypeHeaderValue("application/json");
        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", agent.Key);
        using var response = await http.SendAsync(request, cancellationToken);
        await response.Content.LoadIntoBufferAsync(cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new HttpRequestException($"heartbeat {(int)response.StatusCode}: {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
    }

    private async Task HeartbeatLoopAsync(SimAgent agent, TimeSpan period, CancellationToken cancellationToken)
    {
        // Spread the agents evenly over the period, as independent agents would be.
        var offset = period * ((double)agent.Index / Math.Max(1, opts.Int("agents", 1)));
        try
        {
            await Task.Delay(offset, cancellationToken);
            using var timer = new PeriodicTimer(period);
            do
            {
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    await HeartbeatAsync(agent, cancellationToken);
                    if (Measured(t0))
                    {
                        _heartbeats.Add(Ms(t0, Stopwatch.GetTimestamp()));
                    }
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    _heartbeats.Error();
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>The agent's long-poll: free slots = devices not busy; each task "runs" for taskMs, then reports running + succeeded in one batch.</summary>
    private async Task PullLoopAsync(SimAgent agent, int slots, int taskMs, CancellationToken cancellationToken)
    {
        var held = new ConcurrentDictionary<TaskRef, byte>();
        using var freed = new SemaphoreSlim(0);
        while (!cancellationToken.IsCancellationRequested)
        {
            var free = slots - held.Count;
            if (free <= 0)
            {
                try
                {
                    await freed.WaitAsync(cancellationToken);
                }
                catch (OperationCanceledException)
                {
                    return;
                }
                continue;
            }
            var t0 = Stopwatch.GetTimestamp();
            PullResponse response;
            try
            {
                response = await _node.PullAsync(new PullRequest(free, _waitMs, held.Keys.ToList()), agent.Key, cancellationToken);
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception)
            {
                _pulls.Error();
                await Task.Delay(500, CancellationToken.None);
                continue;
            }
            var got = Stopwatch.GetTimestamp();
            if (_measuring)
            {
                _pulls.Add(Ms(t0, got));
            }
            foreach (var c in response.Cancel)
            {
                held.TryRemove(c, out _);
            }
            foreach (var task in response.Tasks)
            {
                _received.TryAdd(task.RunId, got);
                var reference = new TaskRef(task.RunId, task.DeviceId, task.Attempt);
                held[reference] = 0;
                _ = CompleteAsync(agent, task, taskMs, () =>
                {
                    held.TryRemove(reference, out _);
                    freed.Release();
                });
            }
        }
    }

    private async Task CompleteAsync(SimAgent agent, DeviceTask task, int taskMs, Action done)
    {
        try
        {
            if (taskMs > 0)
            {
                await Task.Delay(taskMs);
            }
            var now = DateTimeOffset.UtcNow;
            var batch = new CallbackBatch([
                new CallbackEvent(Guid.NewGuid().ToString("N"), CallbackTypes.DeviceStatus, now, task.RunId, task.DeviceId, task.Attempt, DeviceRunStatus.Running),
                new CallbackEvent(Guid.NewGuid().ToString("N"), CallbackTypes.DeviceStatus, now, task.RunId, task.DeviceId, task.Attempt, DeviceRunStatus.Succeeded),
            ]);
            var t0 = Stopwatch.GetTimestamp();
            await _node.CallbackAsync(batch, agent.Key, CancellationToken.None);
            if (_measuring)
            {
                Interlocked.Increment(ref _tasksDone);
            }
            if (Measured(t0))
            {
                _callbacks.Add(Ms(t0, Stopwatch.GetTimestamp()));
            }
        }
        catch (Exception)
        {
            _callbacks.Error();
        }
        finally
        {
            done();
        }
    }

    private async Task DashboardLoopAsync(int index, TimeSpan period, CancellationToken cancellationToken)
    {
        string[] paths = [Routes.Dashboard, Routes.Devices, Routes.NodesStatus];
        try
        {
            await Task.Delay(period * ((double)index / Math.Max(1, opts.Int("dashboards", 1))), cancellationToken);
            using var timer = new PeriodicTimer(period);
            do
            {
                foreach (var path in paths)
                {
                    var t0 = Stopwatch.GetTimestamp();
                    try
                    {
                        using var request = new HttpRequestMessage(HttpMethod.Get, path);
                        request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", opts.Get("admin"));
                        using var response = await http.SendAsync(request, cancellationToken);
                        await response.Content.LoadIntoBufferAsync(cancellationToken);
                        response.EnsureSuccessStatusCode();
                        if (Measured(t0))
                        {
                            _reads[path].Add(Ms(t0, Stopwatch.GetTimestamp()));
                        }
                    }
                    catch (Exception) when (!cancellationToken.IsCancellationRequested)
                    {
                        _reads[path].Error();
                    }
                }
            }
            while (await timer.WaitForNextTickAsync(cancellationToken));
        }
        catch (OperationCanceledException)
        {
        }
    }

    private async Task RunCreatorAsync(List<SimAgent> agents, Guid workflow, double perSec, CancellationToken cancellationToken)
    {
        if (perSec <= 0)
        {
            return;
        }
        var random = new Random(7);
        try
        {
            using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1 / perSec));
            while (await timer.WaitForNextTickAsync(cancellationToken))
            {
                var agent = agents[random.Next(agents.Count)];
                var device = agent.DeviceIds[random.Next(agent.DeviceIds.Count)];
                var t0 = Stopwatch.GetTimestamp();
                try
                {
                    await _api.CreateRunAsync(new CreateRunRequest(workflow, Target: new RunTarget(DeviceIds: [device])), cancellationToken);
                    if (Measured(t0))
                    {
                        _creates.Add(Ms(t0, Stopwatch.GetTimestamp()));
                    }
                }
                catch (Exception) when (!cancellationToken.IsCancellationRequested)
                {
                    _creates.Error();
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }
}
