using System.Globalization;
using System.Text.RegularExpressions;
using Harness.Contracts;
using Harness.Contracts.Dashboard;
using Harness.Contracts.Runs;
using Harness.Server.Data;
using Harness.Server.Features.Devices;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;

namespace Harness.Server.Features.Dashboard;

/// <summary>The console's front page: KPIs over a window and the operator's to-do list.</summary>
public static partial class DashboardApi
{
    public const int TodoLimit = 50;

    public static IEndpointRouteBuilder MapDashboardApi(this IEndpointRouteBuilder app)
    {
        app.MapGet(Routes.Dashboard, Get).WithTags("Dashboard").RequireAuthorization(HarnessAuth.OperatorPolicy)
            .WithSummary("KPIs over ?window= (default 24h: runs, device success rate, online ratio, failures by reason, p50/p95 task duration) and a to-do list.");
        return app;
    }

    private static async Task<Results<Ok<DashboardResponse>, ValidationProblem>> Get(
        string? window, HarnessDbContext db, FleetSnapshot fleet, TimeProvider time, CancellationToken cancellationToken)
    {
        window ??= "24h";
        if (!TryParseWindow(window, out var span))
        {
            var errors = new ValidationErrors();
            errors.Add("window", "use a number with m, h or d (e.g. 90m, 24h, 7d), up to 90d");
            return errors.ToProblem();
        }
        var devices = await fleet.GetAsync(db, cancellationToken);
        return TypedResults.Ok(await DashboardReport.BuildAsync(db, devices, time, window, span, cancellationToken));
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static long? Percentile(IReadOnlyList<long> sorted, double p) =>
        sorted.Count == 0 ? null : sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Count) - 1, 0, sorted.Count - 1)];

    public static bool TryParseWindow(string text, out TimeSpan span)
    {
        span = default;
        var m = Window().Match(text);
        if (!m.Success || !int.TryParse(m.Groups[1].Value, NumberStyles.None, CultureInfo.InvariantCulture, out var n) || n < 1)
        {
            return false;
        }
        span = m.Groups[2].Value switch { "m" => TimeSpan.FromMinutes(n), "h" => TimeSpan.FromHours(n), _ => TimeSpan.FromDays(n) };
        return span <= TimeSpan.FromDays(90);
    }

    [GeneratedRegex("^([0-9]{1,6})([mhd])$")]
    private static partial Regex Window();
}
