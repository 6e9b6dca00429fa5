using System.Diagnostics;
using Harness.Cli.Tests.EndToEnd;
using Harness.Contracts;
using Harness.Contracts.Runs;

namespace Harness.Cli.Tests.Operations;

/// <summary>
/// <c>/metrics</c> of a real server after a real run: Prometheus' own <c>promtool check metrics</c>
/// accepts it without a single lint complaint, and every series the issue names is there.
/// </summary>
public sealed class MetricsTests : IAsyncLifetime
{
    private Farm _farm = null!;

    public async Task InitializeAsync() => _farm = await Farm.StartAsync(3, []);

    public async Task DisposeAsync() => await _farm.DisposeAsync();

    [Fact]
    public async Task Metrics_AfterARun_PassPromtool_AndCarryEveryNamedSeries()
    {
        var workflow = await _farm.PushAsync(Farm.Capture("metrics"));
        var run = await _farm.WaitForEndAsync(await _farm.RunAsync(workflow, new RunTarget(All: true)), TimeSpan.FromSeconds(60));
        Assert.Equal(RunStatus.Succeeded, run.Run.Status);

        // Anonymous, like the probes: no bearer token.
        using var anonymous = new HttpClient { BaseAddress = new Uri(_farm.Url) };
        using var response = await anonymous.GetAsync(Routes.Metrics);
        response.EnsureSuccessStatusCode();
        Assert.StartsWith("text/plain", response.Content.Headers.ContentType?.ToString(), StringComparison.Ordinal);
        var text = await response.Content.ReadAsStringAsync();

        var (exit, output) = await PromtoolAsync(text);
        Assert.True(exit == 0 && output.Length == 0, $"promtool check metrics exited {exit}:\n{output}\n--- metrics\n{text}");

        Assert.Contains("harness_runs{status=\"succeeded\"} 1\n", text, StringComparison.Ordinal);
        Assert.Contains("harness_tasks{state=\"succeeded\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("harness_runs_created_total 1\n", text, StringComparison.Ordinal);
        Assert.Contains("harness_tasks_leased_total 3\n", text, StringComparison.Ordinal);
        Assert.Contains("harness_leases_released_total 0\n", text, StringComparison.Ordinal);
        Assert.Contains("harness_dispatch_latency_seconds_count 3\n", text, StringComparison.Ordinal);
        Assert.Contains("harness_dispatch_latency_seconds_bucket{le=\"+Inf\"} 3\n", text, StringComparison.Ordinal);
        Assert.Contains("harness_callback_events_total{type=\"device.status\"}", text, StringComparison.Ordinal);
        Assert.Matches(@"harness_heartbeats_total [1-9]", text);
        Assert.Matches(@"harness_callback_groups_total [1-9]", text);
        Assert.Matches(@"harness_callbacks_grouped_total [1-9]", text);
        Assert.Contains("harness_agents_online 1\n", text, StringComparison.Ordinal);
        Assert.True(text.Contains("harness_http_server_request_duration_seconds_bucket{method=\"POST\",route=\"/api/runs/\",code=\"201\",le=\"+Inf\"} 1\n", StringComparison.Ordinal), text);
    }

    private static async Task<(int Exit, string Output)> PromtoolAsync(string metrics)
    {
        var info = new ProcessStartInfo("promtool")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add("check");
        info.ArgumentList.Add("metrics");
        Process process;
        try
        {
            process = Process.Start(info)!;
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new InvalidOperationException("promtool is missing: install Debian's 'prometheus' package (./test.sh does).", e);
        }
        using (process)
        {
            var stdout = process.StandardOutput.ReadToEndAsync();
            var stderr = process.StandardError.ReadToEndAsync();
            await process.StandardInput.WriteAsync(metrics);
            process.StandardInput.Close();
            await process.WaitForExitAsync();
            return (process.ExitCode, ((await stdout) + (await stderr)).Trim());
        }
    }
}
