using System.Text;
using Harness.Contracts;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Metrics;

/// <summary>
/// <c>GET /metrics</c> in the Prometheus text format, anonymous like the health probes: it tells
/// counts and timings, never names or secrets. Gauges (runs and tasks by state, agents online) are
/// read from the database at scrape time, so every replica reports the same, whole-farm figures;
/// counters and histograms are this replica's own since it started.
/// </summary>
public static class MetricsApi
{
    private static readonly string[] RunStates = [RunStatus.Queued, RunStatus.Running, RunStatus.Succeeded, RunStatus.Failed, RunStatus.Cancelled];

    public static IEndpointRouteBuilder MapMetricsApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(Routes.Metrics, Scrape).WithTags("Health").AllowAnonymous()
            .WithSummary("Prometheus metrics: runs, tasks by state, dispatch latency, callbacks, heartbeats, agents online, HTTP.");
        return app;
    }

    private static async Task<ContentHttpResult> Scrape(
        HarnessDbContext db, MetricsCollector collector, TimeProvider time, IOptions<HarnessServerOptions> options, CancellationToken cancellationToken)
    {
        var runs = await db.Runs.AsNoTracking().GroupBy(r => r.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var tasks = await db.RunDeviceStates.AsNoTracking().GroupBy(s => s.Status).Select(g => new { g.Key, Count = g.Count() }).ToListAsync(cancellationToken);
        var onlineSince = time.GetUtcNow().AddSeconds(-options.Value.OnlineWindowSec);
        var agents = await db.Agents.AsNoTracking().Select(a => a.LastSeen).ToListAsync(cancellationToken);

        var output = new StringBuilder();
        PrometheusText.Header(output, "harness_runs", "Runs by status.", "gauge");
        foreach (var state in RunStates.Union(runs.Select(r => r.Key)).Order(StringComparer.Ordinal))
        {
            PrometheusText.Sample(output, "harness_runs", $"status=\"{PrometheusText.Escape(state)}\"", runs.FirstOrDefault(r => r.Key == state)?.Count ?? 0);
        }
        PrometheusText.Header(output, "harness_tasks", "Device tasks (one device of one run) by state.", "gauge");
        foreach (var state in DeviceRunStatus.All.Union(tasks.Select(t => t.Key)).Order(StringComparer.Ordinal))
        {
            PrometheusText.Sample(output, "harness_tasks", $"state=\"{PrometheusText.Escape(state)}\"", tasks.FirstOrDefault(t => t.Key == state)?.Count ?? 0);
        }
        PrometheusText.Header(output, "harness_agents", "Registered agents.", "gauge");
        PrometheusText.Sample(output, "harness_agents", "", agents.Count);
        PrometheusText.Header(output, "harness_agents_online", "Agents that heartbeated within the online window.", "gauge");
        // Compared here, not in SQL: SQLite cannot compare DateTimeOffset columns.
        PrometheusText.Sample(output, "harness_agents_online", "", agents.Count(seen => seen >= onlineSince));
        collector.WriteTo(output);
        return TypedResults.Text(output.ToString(), PrometheusText.ContentType);
    }
}
