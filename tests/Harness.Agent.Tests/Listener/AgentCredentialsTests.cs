using Harness.Agent.Listener;
using Harness.Client;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Harness.Agent.Tests.Listener;

public sealed class AgentCredentialsTests : IDisposable
{
    private const string Enrolled = """{"agent":{"id":"01a205ad-aff4-7a7f-a113-781dea545c42","name":"PC-01","status":"active","online":false,"runtimes":[],"capacity":20,"current_load":0,"labels":{},"device_count":0,"key_revoked":false,"created_at":"2026-11-01T12:00:00Z"},"api_key":"hak_aabbccddeeff0011.s3cret"}""";

    private readonly FakeTimeProvider _time = new();
    private readonly TempStateDir _state = new();

    public void Dispose() => _state.Dispose();

    private AgentCredentials Create(ScriptedHandler handler, string? apiKey = null, string? secret = "fleet-secret-0123456789") => new(
        Options.Create(new AgentOptions { Name = "PC-01", StateDir = _state.Path, ApiKey = apiKey, EnrollmentSecret = secret }),
        new HarnessNodeClient(new HttpClient(handler) { BaseAddress = new Uri("http://127.0.0.1:5080") }),
        NullLogger<AgentCredentials>.Instance);

    [Fact]
    public async Task NoKey_EnrollsOnce_SavesKeyOwnerOnly_AndReusesItAfterRestart()
    {
        var handler = new ScriptedHandler(_time, 0, _ => ScriptedHandler.Json(Enrolled, System.Net.HttpStatusCode.Created));

        var key = await Create(handler).GetKeyAsync(CancellationToken.None);
        var afterRestart = await Create(handler).GetKeyAsync(CancellationToken.None);

        Assert.Equal("hak_aabbccddeeff0011.s3cret", key);
        Assert.Equal(key, afterRestart);
        Assert.Equal(1, handler.Count);
        Assert.Equal("/api/nodes/enroll", (await handler.NextCallAsync()).Path);
        Assert.Equal(UnixFileMode.UserRead | UnixFileMode.UserWrite, File.GetUnixFileMode(Path.Combine(_state.Path, "agent.key")));
    }

    [Fact]
    public async Task ConfiguredKey_WinsWithoutCallingTheServer()
    {
        var handler = new ScriptedHandler(_time, 0, _ => throw new InvalidOperationException("must not be called"));

        var key = await Create(handler, apiKey: " hak_1.configured ").GetKeyAsync(CancellationToken.None);

        Assert.Equal("hak_1.configured", key);
        Assert.Equal(0, handler.Count);
    }

    [Fact]
    public async Task NoKeyAndNoSecret_SaysWhatToSet()
    {
        var handler = new ScriptedHandler(_time, 0, _ => throw new InvalidOperationException("must not be called"));

        var error = await Assert.ThrowsAsync<AgentConfigurationException>(() => Create(handler, secret: null).GetKeyAsync(CancellationToken.None));

        Assert.Contains("HARNESS_AGENT_KEY", error.Message);
        Assert.Contains("NODE_AGENT_SHARED_SECRET", error.Message);
    }

    [Fact]
    public async Task ConcurrentCallers_EnrollOnlyOnce()
    {
        var handler = new ScriptedHandler(_time, 0, _ => ScriptedHandler.Json(Enrolled, System.Net.HttpStatusCode.Created));
        var credentials = Create(handler);

        var keys = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => Task.Run(() => credentials.GetKeyAsync(CancellationToken.None))));

        Assert.All(keys, k => Assert.Equal("hak_aabbccddeeff0011.s3cret", k));
        Assert.Equal(1, handler.Count);
    }
}
