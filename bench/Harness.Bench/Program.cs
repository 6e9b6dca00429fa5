using System.Diagnostics;
using System.Net;
using Harness.Client;
using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Nodes;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;
using Npgsql;

// Load tool for bench/throughput.sh. Its modes (the first two print one "key=value" result line):
//   drain  — TASKS device tasks through the real pull/lease/callback path by AGENTS simulated agents;
//            with --floor yes, through floor-server's pull and callback instead;
//   ingest — unbatched callbacks with a share of duplicate event_ids from SENDERS concurrent senders;
//            with --floor yes, to floor-server instead of Harness (no enrolment, run or lease);
//   floor-server — the least an HTTP pull/callback server can do (FloorServer.cs), at --url.
var options = Options.Parse(args);
if (options.Mode == "floor-server")
{
    return await FloorServer.RunAsync(options);
}
using var http = new HttpClient(new SocketsHttpHandler
{
    MaxConnectionsPerServer = 2048,
    PooledConnectionLifetime = TimeSpan.FromMinutes(30),
    AutomaticDecompression = DecompressionMethods.None,
})
{
    BaseAddress = new Uri(options.Get("url")),
    Timeout = TimeSpan.FromMinutes(5),
};
var bench = new Bench(http, options);
return options.Mode switch
{
    "drain" => await bench.DrainAsync(),
    "ingest" => await bench.IngestAsync(),
    _ => Usage(),
};

static int Usage()
{
    Console.Error.WriteLine("usage: Harness.Bench drain|ingest|floor-server --url U --admin T --secret S --pg CONN [--agents 32 --tasks 50000 --slots 8] [--senders 8 --events 10000 --dup 0.2 --floor yes] [--tag X]");
    return 2;
}


internal sealed class Bench(HttpClient http, Options options)
{
    private readonly HarnessNodeClient _node = new(http);
    private readonly string _tag = options.Get("tag", DateTimeOffset.UtcNow.ToUnixTimeMilliseconds().ToString(System.Globalization.CultureInfo.InvariantCulture));

    public async Task<int> DrainAsync()
    {
        var agentCount = options.Int("agents", 32);
        var tasks = options.Int("tasks", 50_000);
        var slots = options.Int("slots", 8);
        // Tasks are (run, device): DEVICES devices spread over the agents, TASKS / DEVICES runs on all of them.
        var devices = options.Int("devices", Math.Min(1000, tasks));
        if (tasks % devices != 0)
        {
            throw new ArgumentException($"--tasks {tasks} must be a multiple of --devices {devices}");
        }
        var runs = tasks / devices;
        await using var pg = NpgsqlDataSource.Create(options.Get("pg"));
        List<AgentWithId> agents;
        if (options.Get("floor", "no") == "yes")
        {
            // floor-server keeps no agents or runs: its queue gets the same (run, device) tasks directly.
            agents = Enumerable.Range(0, agentCount).Select(a => new AgentWithId(Guid.NewGuid(), $"BENCH-floor-{a:D2}", $"floor-key-{_tag}-{a}-0123456789abcdef")).ToList();
            await using var seed = pg.CreateCommand(
                $"INSERT INTO {FloorServer.Tasks} (run_id, device_id) SELECT r.id, 'BENCH-{_tag}-dev' || lpad(d::text, 4, '0') " +
                "FROM (SELECT gen_random_uuid() AS id, n FROM generate_series(1, $1) n) r CROSS JOIN generate_series(0, $2 - 1) d ORDER BY r.n, d");
            seed.Parameters.Add(new NpgsqlParameter { Value = runs });
            seed.Parameters.Add(new NpgsqlParameter { Value = devices });
            await seed.ExecuteNonQueryAsync();
        }
        else
        {
            agents = await EnrollAsync(agentCount, devices);
            var admin = new HarnessApiClient(http, options.Get("admin"));
            var workflow = await admin.PushWorkflowAsync(OneStep($"bench-drain-{_tag}"));
            for (var r = 0; r < runs; r++)
            {
                await admin.CreateRunAsync(new CreateRunRequest(
                    WorkflowId: workflow.WorkflowId, Target: new RunTarget(NodeIds: agents.Select(a => a.NodeId).ToList()), Concurrency: devices));
            }
        }
        Console.Error.WriteLine($"drain: {agents.Count} agents, {devices} devices, {runs} runs queued; draining with {slots} slots per agent");

        var commitsBefore = await CommitsAsync(pg);
        var done = 0;
        var requests = 0L;
        var failures = 0;
        long firstPickup = 0;
        long lastDone = 0;
        var clock = Stopwatch.StartNew();
        using var finished = new CancellationTokenSource();
        var workers = agents.Select(agent => Task.Run(async () =>
        {
            var held = new Dictionary<TaskRef, Task>();
            try
            {
                while (!finished.IsCancellationRequested)
                {
                    foreach (var (key, _) in held.Where(h => h.Value.IsCompleted).ToList())
                    {
                        held.Remove(key);
                    }
                    if (held.Count >= slots)
                    {
                        await Task.WhenAny(held.Values);
                        continue;
                    }
                    var pull = await _node.PullAsync(new PullRequest(slots - held.Count, 2_000, held.Keys.ToList()), agent.ApiKey, finished.Token);
                    Interlocked.Increment(ref requests);
                    if (pull.Tasks.Count > 0)
                    {
                        Interlocked.CompareExchange(ref firstPickup, clock.ElapsedTicks, 0);
                    }
                    foreach (var task in pull.Tasks)
                    {
                        held[new TaskRef(task.RunId, task.DeviceId, task.Attempt)] = Task.Run(async () =>
                        {
                            var response = await _node.CallbackAsync(Finished(task), agent.ApiKey, CancellationToken.None);
                            Interlocked.Increment(ref requests);
                            if (response.Accepted != 3)
                            {
                                Interlocked.Increment(ref failures);
                            }
                            if (Interlocked.Increment(ref done) == tasks)
                            {
                                Interlocked.Exchange(ref lastDone, clock.ElapsedTicks);
                                await finished.CancelAsync();
                            }
                        });
                    }
                }
            }
            catch (OperationCanceledException) when (finished.IsCancellationRequested)
            {
            }
            await Task.WhenAll(held.Values);
        })).ToList();
        await Task.WhenAll(workers);
        await Task.Delay(1_500); // pg_stat_database is flushed by each backend at most once a second
        var commits = await CommitsAsync(pg) - commitsBefore;
        var seconds = (lastDone - firstPickup) / (double)Stopwatch.Frequency;
        FormattableString line = $"drain tasks={tasks} agents={agentCount} slots={slots} devices={devices} runs={runs} wall_s={seconds:F2} tasks_per_s={tasks / seconds:F0} commits={commits} commits_per_task={commits / (double)tasks:F2} requests={requests} not_accepted={failures}";
        Console.WriteLine(FormattableString.Invariant(line));
        return failures == 0 ? 0 : 1;
    }

    public async Task<int> IngestAsync()
    {
        var senders = options.Int("senders", 8);
        var events = options.Int("events", 10_000);
        var dup = options.Double("dup", 0.2);
        var floor = options.Get("floor", "no") == "yes";
        AgentWithId agent;
        var leased = new List<TaskRef>();
        if (floor)
        {
            // floor-server keeps no agents or runs: made-up ones, the same size on the wire.
            agent = new AgentWithId(Guid.NewGuid(), "BENCH-floor", $"floor-key-{_tag}-0123456789abcdef");
            leased.AddRange(Enumerable.Range(0, senders).Select(s => new TaskRef(Guid.NewGuid(), $"BENCH-floor-dev{s:D4}", 1)));
        }
        else
        {
            agent = (await EnrollAsync(1, senders))[0];
            var admin = new HarnessApiClient(http, options.Get("admin"));
            var workflow = await admin.PushWorkflowAsync(OneStep($"bench-ingest-{_tag}"));
            await admin.CreateRunAsync(new CreateRunRequest(WorkflowId: workflow.WorkflowId, Target: new RunTarget(NodeIds: [agent.NodeId]), Concurrency: senders));
            while (leased.Count < senders)
            {
                leased.AddRange((await _node.PullAsync(new PullRequest(senders - leased.Count, 1_000), agent.ApiKey, CancellationToken.None)).Tasks
                    .Select(t => new TaskRef(t.RunId, t.DeviceId, t.Attempt)));
            }
        }

        // Each sender posts its share one event per request; a DUP share of the requests repeat an
        // event_id the same sender already posted (an agent retrying after a lost answer).
        var random = new Random(42);
        var plans = leased.Select((task, s) =>
        {
            var ids = new List<string>();
            var sent = new List<string>();
            var count = events / senders + (s < events % senders ? 1 : 0);
            for (var i = 0; i < count; i++)
            {
                if (sent.Count > 0 && random.NextDouble() < dup)
                {
                    ids.Add(sent[random.Next(sent.Count)]);
                }
                else
                {
                    var id = $"ing-{_tag}-{s}-{i}";
                    sent.Add(id);
                    ids.Add(id);
                }
            }
            return (Task: task, Ids: ids, Unique: sent.Count);
        }).ToList();
        var unique = plans.Sum(p => p.Unique);
        var accepted = 0;
        var duplicates = 0;
        var clock = Stopwatch.StartNew();
        await Task.WhenAll(plans.Select(plan => Task.Run(async () =>
        {
            foreach (var id in plan.Ids)
            {
                var now = DateTimeOffset.UtcNow;
                var e = new CallbackEvent(id, CallbackTypes.Step, now, plan.Task.RunId, plan.Task.DeviceId, plan.Task.Attempt,
                    Step: new StepReport("s1", StepTypes.Report, StepStatus.Succeeded, 1, now, now, 0));
                var response = await _node.CallbackAsync(new CallbackBatch([e]), agent.ApiKey, CancellationToken.None);
                Interlocked.Add(ref accepted, response.Accepted);
                Interlocked.Add(ref duplicates, response.Duplicates);
            }
        })));
        var seconds = clock.Elapsed.TotalSeconds;
        await using var pg = NpgsqlDataSource.Create(options.Get("pg"));
        await using var query = floor
            ? pg.CreateCommand($"SELECT count(*), count(DISTINCT event_id) FROM {FloorServer.Events} WHERE event_id LIKE 'ing-' || $1 || '-%'")
            : pg.CreateCommand("SELECT count(*), count(DISTINCT event_id) FROM callback_events WHERE agent_id = $1");
        query.Parameters.Add(floor ? new NpgsqlParameter { Value = _tag } : new NpgsqlParameter { Value = agent.Id });
        await using var reader = await query.ExecuteReaderAsync();
        await reader.ReadAsync();
        var (rows, distinct) = (reader.GetInt64(0), reader.GetInt64(1));
        var exact = rows == distinct && distinct == unique;
        FormattableString line = $"ingest senders={senders} events={events} unique={unique} wall_s={seconds:F2} events_per_s={events / seconds:F0} accepted={accepted} duplicates={duplicates} rows={rows} distinct={distinct} exactly_once={(exact ? "yes" : "no")}";
        Console.WriteLine(FormattableString.Invariant(line));
        return exact ? 0 : 1;
    }

    private static WorkflowDefinition OneStep(string name) =>
        new(name, [new WorkflowStep("s1", StepTypes.Report)], Description: "bench: one no-op step");

    /// <summary>What a finished one-step task reports, in one request: running, the step, succeeded.</summary>
    private static CallbackBatch Finished(DeviceTask task)
    {
        var now = DateTimeOffset.UtcNow;
        return new CallbackBatch(
        [
            new CallbackEvent(Guid.NewGuid().ToString("N"), CallbackTypes.DeviceStatus, now, task.RunId, task.DeviceId, task.Attempt, Status: DeviceRunStatus.Running),
            new CallbackEvent(Guid.NewGuid().ToString("N"), CallbackTypes.Step, now, task.RunId, task.DeviceId, task.Attempt,
                Step: new StepReport("s1", StepTypes.Report, StepStatus.Succeeded, 1, now, now, 0)),
            new CallbackEvent(Guid.NewGuid().ToString("N"), CallbackTypes.DeviceStatus, now, task.RunId, task.DeviceId, task.Attempt, Status: DeviceRunStatus.Succeeded),
        ]);
    }

    /// <summary>Enrolls agents and heartbeats their devices (device i goes to agent i mod agents) so they exist and are online.</summary>
    private async Task<List<AgentWithId>> EnrollAsync(int count, int devices)
    {
        var agents = new List<AgentWithId>();
        for (var a = 0; a < count; a++)
        {
            var name = $"BENCH-{_tag}-{a:D2}";
            var credential = await _node.EnrollAsync(new EnrollRequest(name, Capacity: devices), options.Get("secret"), CancellationToken.None);
            var ids = Enumerable.Range(0, devices).Where(d => d % count == a).Select(d => $"{name}-dev{d:D4}").ToList();
            var beat = await _node.HeartbeatAsync(new HeartbeatRequest(
                Version: "bench", CurrentLoad: 0, Capacity: ids.Count,
                Devices: ids.Select(id => new DeviceReport(id, Model: "bench", State: DeviceState.Ready)).ToList()), credential.ApiKey, CancellationToken.None);
            agents.Add(new AgentWithId(credential.Agent.Id, beat.NodeId, credential.ApiKey));
        }
        return agents;
    }

    private static async Task<long> CommitsAsync(NpgsqlDataSource pg)
    {
        await using var command = pg.CreateCommand("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()");
        return (long)(await command.ExecuteScalarAsync())!;
    }
}

internal sealed record AgentWithId(Guid Id, string NodeId, string ApiKey);
