using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Harness.Contracts.Runs;
using Harness.Contracts.Workflows;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using System.Threading.Channels;
using Npgsql;
using NpgsqlTypes;

/// <summary>
/// The least an HTTP pull/callback server can do, for the floors of "Drain" and "Callback ingest": the same
/// routes and contracts as Harness, each request one autocommitted statement. A pull claims up to its free
/// slots of <see cref="Tasks"/> with <c>FOR UPDATE SKIP LOCKED</c> (the ceiling's claim); a callback inserts its
/// event_ids with <c>INSERT … ON CONFLICT DO NOTHING</c> (the ceiling's insert) and, when it ends the task, marks
/// it done in the same statement. No authentication beyond the header's presence, no validation, no leases,
/// runs, attempts or steps: what any HTTP implementation of the protocol pays on this machine before doing its own work.
/// With <c>--group yes</c> it commits in groups instead: the pulls (and the callbacks) waiting at once share one
/// statement, each answered when it returns, which is what a group commit would save a server of this protocol.
/// </summary>
internal static class FloorServer
{
    public const string Events = "bench_floor_events";
    public const string Tasks = "bench_floor_tasks";
    private static readonly WorkflowDefinition Workflow = new("floor", [new WorkflowStep("s1", StepTypes.Report)]);

    public static async Task<int> RunAsync(Options options)
    {
        await using var pg = NpgsqlDataSource.Create(options.Get("pg"));
        await using (var create = pg.CreateCommand(
            $"CREATE TABLE IF NOT EXISTS {Events} (event_id text PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now());" +
            $"CREATE TABLE IF NOT EXISTS {Tasks} (id bigserial PRIMARY KEY, run_id uuid NOT NULL, device_id text NOT NULL, status text NOT NULL DEFAULT 'queued'," +
            $" updated_at timestamptz NOT NULL DEFAULT now(), UNIQUE (run_id, device_id));" +
            $"CREATE INDEX IF NOT EXISTS {Tasks}_queued ON {Tasks} (id) WHERE status = 'queued'"))
        {
            await create.ExecuteNonQueryAsync();
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(options.Get("url"));
        var app = builder.Build();
        if (options.Get("group", "no") == "yes")
        {
            MapGrouped(app, pg);
            Console.Error.WriteLine($"floor server (grouped) listening on {options.Get("url")}");
            await app.RunAsync();
            return 0;
        }
        app.MapPost(Routes.NodesPull, async (HttpContext context) =>
        {
            if (!context.Request.Headers.ContainsKey("Authorization"))
            {
                return Results.Unauthorized();
            }
            var pull = await context.Request.ReadFromJsonAsync(HarnessJsonContext.Default.PullRequest, context.RequestAborted);
            await using var claim = pg.CreateCommand(
                $"WITH c AS (SELECT id FROM {Tasks} WHERE status = 'queued' ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) " +
                $"UPDATE {Tasks} t SET status = 'leased', updated_at = now() FROM c WHERE t.id = c.id RETURNING t.run_id, t.device_id");
            claim.Parameters.Add(new NpgsqlParameter { Value = Math.Max(0, pull?.FreeSlots ?? 1) });
            var now = DateTimeOffset.UtcNow;
            var tasks = new List<DeviceTask>();
            await using (var reader = await claim.ExecuteReaderAsync(context.RequestAborted))
            {
                while (await reader.ReadAsync(context.RequestAborted))
                {
                    tasks.Add(new DeviceTask(reader.GetGuid(0), reader.GetString(1), null, null, 1, now.AddSeconds(60), 1, "floor", Workflow, 90_000, 30_000, now.AddHours(1)));
                }
            }
            if (tasks.Count == 0)
            {
                await Task.Delay(50, context.RequestAborted); // nothing queued: a short wait stands in for the long poll
            }
            return Results.Json(new PullResponse(tasks, [], [], 60, now), HarnessJsonContext.Default.PullResponse);
        });
        app.MapPost(Routes.NodesCallback, async (HttpContext context) =>
        {
            if (!context.Request.Headers.ContainsKey("Authorization"))
            {
                return Results.Unauthorized();
            }
            var events = (await context.Request.ReadFromJsonAsync(HarnessJsonContext.Default.CallbackBatch, context.RequestAborted))?.Events ?? [];
            var ends = events.FirstOrDefault(e => e.Type == CallbackTypes.DeviceStatus && DeviceRunStatus.IsTerminal(e.Status ?? ""));
            // The cheapest statement for the shape: the ceiling's single-row insert for one event that ends nothing.
            var single = ends is null && events.Count == 1;
            await using var insert = single
                ? pg.CreateCommand($"INSERT INTO {Events} (event_id) VALUES ($1) ON CONFLICT DO NOTHING RETURNING event_id")
                : pg.CreateCommand(
                    $"WITH done AS (UPDATE {Tasks} SET status = 'done', updated_at = now() WHERE run_id = $2 AND device_id = $3) " +
                    $"INSERT INTO {Events} (event_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING event_id");
            if (single)
            {
                insert.Parameters.Add(new NpgsqlParameter { Value = events[0].EventId! });
            }
            else
            {
                insert.Parameters.Add(new NpgsqlParameter { Value = events.Select(e => e.EventId!).ToArray() });
                insert.Parameters.Add(new NpgsqlParameter { Value = (object?)ends?.RunId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Uuid });
                insert.Parameters.Add(new NpgsqlParameter { Value = (object?)ends?.DeviceId ?? DBNull.Value, NpgsqlDbType = NpgsqlDbType.Text });
            }
            var fresh = new HashSet<string>();
            await using (var reader = await insert.ExecuteReaderAsync(context.RequestAborted))
            {
                while (await reader.ReadAsync(context.RequestAborted))
                {
                    fresh.Add(reader.GetString(0));
                }
            }
            var results = events.Select(e => new CallbackResult(e.EventId!, fresh.Contains(e.EventId!) ? "accepted" : "duplicate")).ToList();
            return Results.Json(new CallbackResponse(fresh.Count, results.Count - fresh.Count, 0, results), HarnessJsonContext.Default.CallbackResponse);
        });
        Console.Error.WriteLine($"floor server listening on {options.Get("url")}");
        await app.RunAsync();
        return 0;
    }

    /// <summary>The same routes, each request queued for the next group's statement.</summary>
    private static void MapGrouped(WebApplication app, NpgsqlDataSource pg)
    {
        var claims = new Grouper<int, List<(Guid RunId, string DeviceId)>>(async slots =>
        {
            await using var claim = pg.CreateCommand(
                $"WITH c AS (SELECT id FROM {Tasks} WHERE status = 'queued' ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED) " +
                $"UPDATE {Tasks} t SET status = 'leased', updated_at = now() FROM c WHERE t.id = c.id RETURNING t.run_id, t.device_id");
            claim.Parameters.Add(new NpgsqlParameter { Value = slots.Sum() });
            var claimed = new Queue<(Guid, string)>();
            await using (var reader = await claim.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    claimed.Enqueue((reader.GetGuid(0), reader.GetString(1)));
                }
            }
            // Dealt out in the order the pulls arrived, each up to its free slots.
            return slots.Select(n => Enumerable.Range(0, Math.Min(n, claimed.Count)).Select(_ => claimed.Dequeue()).ToList()).ToList();
        });
        var callbacks = new Grouper<IReadOnlyList<CallbackEvent>, HashSet<string>>(async batches =>
        {
            var ends = batches.SelectMany(b => b).Where(e => e.Type == CallbackTypes.DeviceStatus && DeviceRunStatus.IsTerminal(e.Status ?? "")).ToList();
            await using var insert = pg.CreateCommand(
                $"WITH done AS (UPDATE {Tasks} t SET status = 'done', updated_at = now() FROM unnest($2::uuid[], $3::text[]) e(run_id, device_id) " +
                $"WHERE t.run_id = e.run_id AND t.device_id = e.device_id) " +
                $"INSERT INTO {Events} (event_id) SELECT unnest($1::text[]) ON CONFLICT DO NOTHING RETURNING event_id");
            insert.Parameters.Add(new NpgsqlParameter { Value = batches.SelectMany(b => b).Select(e => e.EventId!).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = ends.Select(e => e.RunId!.Value).ToArray() });
            insert.Parameters.Add(new NpgsqlParameter { Value = ends.Select(e => e.DeviceId!).ToArray() });
            var fresh = new HashSet<string>();
            await using (var reader = await insert.ExecuteReaderAsync())
            {
                while (await reader.ReadAsync())
                {
                    fresh.Add(reader.GetString(0));
                }
            }
            // An event_id sent twice in one group is stored once, and accepted for the first of its callbacks.
            return batches.Select(b => b.Select(e => e.EventId!).Where(fresh.Remove).ToHashSet()).ToList();
        });
        app.MapPost(Routes.NodesPull, async (HttpContext context) =>
        {
            if (!context.Request.Headers.ContainsKey("Authorization"))
            {
                return Results.Unauthorized();
            }
            var pull = await context.Request.ReadFromJsonAsync(HarnessJsonContext.Default.PullRequest, context.RequestAborted);
            var now = DateTimeOffset.UtcNow;
            var claimed = await claims.SendAsync(Math.Max(0, pull?.FreeSlots ?? 1));
            var tasks = claimed.Select(t => new DeviceTask(t.RunId, t.DeviceId, null, null, 1, now.AddSeconds(60), 1, "floor", Workflow, 90_000, 30_000, now.AddHours(1))).ToList();
            if (tasks.Count == 0)
            {
                await Task.Delay(50, context.RequestAborted);
            }
            return Results.Json(new PullResponse(tasks, [], [], 60, now), HarnessJsonContext.Default.PullResponse);
        });
        app.MapPost(Routes.NodesCallback, async (HttpContext context) =>
        {
            if (!context.Request.Headers.ContainsKey("Authorization"))
            {
                return Results.Unauthorized();
            }
            var events = (await context.Request.ReadFromJsonAsync(HarnessJsonContext.Default.CallbackBatch, context.RequestAborted))?.Events ?? [];
            var fresh = await callbacks.SendAsync(events);
            var results = events.Select(e => new CallbackResult(e.EventId!, fresh.Contains(e.EventId!) ? "accepted" : "duplicate")).ToList();
            return Results.Json(new CallbackResponse(fresh.Count, results.Count - fresh.Count, 0, results), HarnessJsonContext.Default.CallbackResponse);
        });
    }

    /// <summary>
    /// One writer: every request waiting when the last group's statement returned goes into the next one, which
    /// runs autocommitted, so a commit serves the whole group. A failed group fails each of its requests.
    /// </summary>
    private sealed class Grouper<TIn, TOut>
    {
        private readonly Channel<(TIn Input, TaskCompletionSource<TOut> Done)> _queue = Channel.CreateUnbounded<(TIn, TaskCompletionSource<TOut>)>(new UnboundedChannelOptions { SingleReader = true });
        private readonly Func<IReadOnlyList<TIn>, Task<List<TOut>>> _run;

        public Grouper(Func<IReadOnlyList<TIn>, Task<List<TOut>>> run)
        {
            _run = run;
            _ = Task.Run(LoopAsync);
        }

        public Task<TOut> SendAsync(TIn input)
        {
            var done = new TaskCompletionSource<TOut>(TaskCreationOptions.RunContinuationsAsynchronously);
            _queue.Writer.TryWrite((input, done));
            return done.Task;
        }

        private async Task LoopAsync()
        {
            var group = new List<(TIn Input, TaskCompletionSource<TOut> Done)>();
            while (await _queue.Reader.WaitToReadAsync())
            {
                group.Clear();
                while (group.Count < 512 && _queue.Reader.TryRead(out var item))
                {
                    group.Add(item);
                }
                try
                {
                    var outputs = await _run(group.Select(g => g.Input).ToList());
                    for (var i = 0; i < group.Count; i++)
                    {
                        group[i].Done.SetResult(outputs[i]);
                    }
                }
                catch (Exception e)
                {
                    group.ForEach(g => g.Done.TrySetException(e));
                }
            }
        }
    }
}
