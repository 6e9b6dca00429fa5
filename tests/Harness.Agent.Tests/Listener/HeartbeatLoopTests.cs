using Harness.Agent.Listener;
using Harness.Client;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Harness.Agent.Tests.Listener;

/// <summary>The heartbeat loop's timing, driven entirely by a fake clock: no test here sleeps through a backoff.</summary>
public sealed class HeartbeatLoopTests : IDisposable
{
    private const int Seed = 1234;
    private const string HeartbeatOk = """{"agent_id":"01a205ad-aff4-7a7f-a113-781dea545c42","node_id":"PC-01","server_time":"2026-11-01T12:00:00Z","online_window_sec":30,"devices_accepted":0}""";

    private readonly SignallingTimeProvider _time = new();
    private readonly CapturingLoggerProvider _logs = new();
    private readonly TempStateDir _state = new();

    public void Dispose() => _state.Dispose();

    private ServiceProvider Build(ScriptedHandler handler, Dictionary<string, string?>? extra = null)
    {
        var settings = new Dictionary<string, string?>
        {
            ["Agent:ServerUrl"] = "http://127.0.0.1:5080",
            ["Agent:Name"] = "PC-01",
            ["Agent:ApiKey"] = "hak_0011223344556677.secret",
            ["Agent:StateDir"] = _state.Path,
            ["Agent:HeartbeatIntervalSec"] = "10",
            ["Agent:BackoffInitialSec"] = "1",
            ["Agent:BackoffMaxSec"] = "8",
        };
        foreach (var (k, v) in extra ?? [])
        {
            settings[k] = v;
        }
        var configuration = new ConfigurationBuilder().AddInMemoryCollection(settings).Build();
        var services = new ServiceCollection();
        services.AddLogging(l => l.AddProvider(_logs).SetMinimumLevel(LogLevel.Debug));
        services.AddSingleton<TimeProvider>(_time);
        services.AddHarnessAgent(configuration);
        services.Replace(ServiceDescriptor.Singleton(new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), new Random(Seed))));
        services.Replace(ServiceDescriptor.Singleton(new HarnessNodeClient(new HttpClient(handler) { BaseAddress = new Uri("http://127.0.0.1:5080") })));
        return services.BuildServiceProvider();
    }

    [Fact]
    public async Task ServerUnreachable_RetriesWithExponentialJitteredBackoff_ThenReturnsToTheInterval()
    {
        var handler = new ScriptedHandler(_time, failures: 5, _ => ScriptedHandler.Json(HeartbeatOk));
        await using var services = Build(handler);
        var loop = services.GetServices<IHostedService>().OfType<HeartbeatLoop>().Single();
        var expected = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), new Random(Seed));

        await loop.StartAsync(CancellationToken.None);
        var previous = await handler.NextCallAsync();
        for (var attempt = 1; attempt <= 5; attempt++)
        {
            var delay = expected.Next(attempt);
            Assert.InRange(delay, expected.Ceiling(attempt) / 2, expected.Ceiling(attempt));
            Assert.Equal(delay, await _time.TimerArmedAsync());
            _time.Advance(delay - TimeSpan.FromMilliseconds(1));
            Assert.True(await handler.StaysQuietAsync(), $"retry {attempt} came before its {delay} backoff");
            _time.Advance(TimeSpan.FromMilliseconds(1));
            var call = await handler.NextCallAsync();
            Assert.Equal(delay, call.At - previous.At);
            previous = call;
        }

        // The sixth call succeeded: the next heartbeat comes after the normal interval, not a backoff.
        Assert.Equal(TimeSpan.FromSeconds(10), await _time.TimerArmedAsync());
        _time.Advance(TimeSpan.FromSeconds(10) - TimeSpan.FromMilliseconds(1));
        Assert.True(await handler.StaysQuietAsync());
        _time.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(TimeSpan.FromSeconds(10), (await handler.NextCallAsync()).At - previous.At);
        await loop.StopAsync(CancellationToken.None);

        var retries = _logs.Entries.Where(e => e.Level == LogLevel.Warning && e.Message.Contains("retrying in", StringComparison.Ordinal)).ToList();
        Assert.Equal(5, retries.Count);
        Assert.Contains(retries, r => r.Message.Contains("attempt 5", StringComparison.Ordinal));
        Assert.Contains(_logs.Entries, e => e.Message.Contains("succeeded again after 5 failure(s)", StringComparison.Ordinal));
        Assert.Equal(0, services.GetRequiredService<AgentStatus>().ConsecutiveFailures);
    }

    [Fact]
    public async Task KeyRejected_IsLoggedAsErrorAndRetriedWithBackoff()
    {
        var handler = new ScriptedHandler(_time, failures: 0, _ => ScriptedHandler.Json(
            """{"status":401,"title":"Unauthorized","detail":"authorization: send this agent's API key"}""", System.Net.HttpStatusCode.Unauthorized));
        await using var services = Build(handler);
        var loop = services.GetServices<IHostedService>().OfType<HeartbeatLoop>().Single();
        var expected = new Backoff(TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(8), new Random(Seed));

        await loop.StartAsync(CancellationToken.None);
        await handler.NextCallAsync();
        var delay = expected.Next(1);
        Assert.Equal(delay, await _time.TimerArmedAsync());
        _time.Advance(delay);
        await handler.NextCallAsync();
        // The call was made; the loop has counted its refusal once it waits out the next backoff.
        Assert.Equal(expected.Next(2), await _time.TimerArmedAsync());
        await loop.StopAsync(CancellationToken.None);

        Assert.Contains(_logs.Entries, e => e.Level == LogLevel.Error && e.Message.Contains("refused", StringComparison.Ordinal) && e.Message.Contains("authorization", StringComparison.Ordinal));
        Assert.Equal(2, services.GetRequiredService<AgentStatus>().ConsecutiveFailures);
    }

    [Fact]
    public async Task Stop_WhileWaitingOutABackoff_EndsPromptly()
    {
        var handler = new ScriptedHandler(_time, failures: int.MaxValue, _ => ScriptedHandler.Json(HeartbeatOk));
        await using var services = Build(handler);
        var loop = services.GetServices<IHostedService>().OfType<HeartbeatLoop>().Single();

        await loop.StartAsync(CancellationToken.None);
        await handler.NextCallAsync();
        await _time.TimerArmedAsync();
        var stop = loop.StopAsync(CancellationToken.None);

        Assert.Same(stop, await Task.WhenAny(stop, Task.Delay(TimeSpan.FromSeconds(5))));
        Assert.Equal(1, handler.Count);
    }
}
