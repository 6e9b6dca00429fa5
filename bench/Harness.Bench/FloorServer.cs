using Harness.Contracts;
using Harness.Contracts.Dispatch;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Npgsql;

/// <summary>
/// The least an HTTP callback endpoint can do, for the "Callback ingest" floor: parse the batch with the
/// contract's JSON, insert each event_id with <c>INSERT … ON CONFLICT DO NOTHING</c> (one autocommitted
/// statement, as the ceiling's pgbench script) and answer how many were new. No authentication beyond the
/// header's presence, no validation, no run or device state: what any HTTP ingest on this machine pays
/// before doing its own work.
/// </summary>
internal static class FloorServer
{
    public const string Table = "bench_floor_events";

    public static async Task<int> RunAsync(Options options)
    {
        await using var pg = NpgsqlDataSource.Create(options.Get("pg"));
        await using (var create = pg.CreateCommand($"CREATE TABLE IF NOT EXISTS {Table} (event_id text PRIMARY KEY, received_at timestamptz NOT NULL DEFAULT now())"))
        {
            await create.ExecuteNonQueryAsync();
        }
        var builder = WebApplication.CreateSlimBuilder();
        builder.Logging.ClearProviders();
        builder.WebHost.UseUrls(options.Get("url"));
        var app = builder.Build();
        app.MapPost(Routes.NodesCallback, async (HttpContext context) =>
        {
            if (!context.Request.Headers.ContainsKey("Authorization"))
            {
                return Results.Unauthorized();
            }
            var batch = await context.Request.ReadFromJsonAsync(HarnessJsonContext.Default.CallbackBatch, context.RequestAborted);
            var results = new List<CallbackResult>();
            foreach (var e in batch?.Events ?? [])
            {
                await using var insert = pg.CreateCommand($"INSERT INTO {Table} (event_id) VALUES ($1) ON CONFLICT DO NOTHING");
                insert.Parameters.Add(new NpgsqlParameter { Value = e.EventId });
                var added = await insert.ExecuteNonQueryAsync(context.RequestAborted) == 1;
                results.Add(new CallbackResult(e.EventId!, added ? "accepted" : "duplicate"));
            }
            var accepted = results.Count(r => r.Outcome == "accepted");
            return Results.Json(new CallbackResponse(accepted, results.Count - accepted, 0, results), HarnessJsonContext.Default.CallbackResponse);
        });
        Console.Error.WriteLine($"floor server listening on {options.Get("url")}");
        await app.RunAsync();
        return 0;
    }
}
