using System.Collections.Concurrent;
using Harness.Contracts.Nodes;
using Harness.Runtimes.Devices;

namespace Harness.Agent.Tests.Fakes;

/// <summary>
/// Our own edge fake of the device backend: every call is recorded as "op handle args" and goes
/// through <see cref="Hook"/> first, so a test can make any operation fail, hang or succeed.
/// </summary>
internal sealed class FakeDeviceAdapter : IDeviceAdapter
{
    public static readonly byte[] Png = [0x89, 0x50, 0x4E, 0x47, 0x0D, 0x0A, 0x1A, 0x0A, 1, 2, 3];

    public ConcurrentQueue<string> Calls { get; } = new();

    public List<DeviceInfo> Devices { get; set; } = [];

    public bool Connected { get; set; } = true;

    public string ShellOutput { get; set; } = "ok";

    /// <summary>(operation, handle, token) → runs before the operation; throw or hang to simulate faults.</summary>
    public Func<string, string, CancellationToken, Task> Hook { get; set; } = (_, _, _) => Task.CompletedTask;

    public string Name => "fake";

    public int Count(string op) => Calls.Count(c => c.StartsWith(op + " ", StringComparison.Ordinal));

    /// <summary>When set, listing fails with it (the backend is down).</summary>
    public Exception? ListError { get; set; }

    public Task<IReadOnlyList<DeviceInfo>> ListAsync(CancellationToken cancellationToken) =>
        ListError is { } e ? Task.FromException<IReadOnlyList<DeviceInfo>>(e) : Task.FromResult<IReadOnlyList<DeviceInfo>>([.. Devices]);

    public Task<bool> CheckConnectionAsync(CancellationToken cancellationToken) => Task.FromResult(Connected);

    public Task PingAsync(string handle, CancellationToken cancellationToken) => Do("ping", handle, "", cancellationToken);

    public async Task<string> ShellAsync(string handle, string command, CancellationToken cancellationToken)
    {
        await Do("shell", handle, command, cancellationToken);
        return ShellOutput;
    }

    public Task TapAsync(string handle, int x, int y, CancellationToken cancellationToken) => Do("tap", handle, $"{x},{y}", cancellationToken);

    public Task SwipeAsync(string handle, int x1, int y1, int x2, int y2, int durationMs, CancellationToken cancellationToken) =>
        Do("swipe", handle, $"{x1},{y1},{x2},{y2},{durationMs}", cancellationToken);

    public Task InputTextAsync(string handle, string text, CancellationToken cancellationToken) => Do("text", handle, text, cancellationToken);

    public Task KeyEventAsync(string handle, string key, CancellationToken cancellationToken) => Do("key", handle, key, cancellationToken);

    public Task LaunchAppAsync(string handle, string package, string? activity, CancellationToken cancellationToken) =>
        Do("launch", handle, $"{package}/{activity}", cancellationToken);

    public Task OpenUrlAsync(string handle, string url, CancellationToken cancellationToken) => Do("url", handle, url, cancellationToken);

    public async Task<byte[]> ScreenshotAsync(string handle, CancellationToken cancellationToken)
    {
        await Do("screenshot", handle, "", cancellationToken);
        return Png;
    }

    public Task RebootAsync(string handle, CancellationToken cancellationToken) => Do("reboot", handle, "", cancellationToken);

    public Task EmulatorStartAsync(string handle, CancellationToken cancellationToken) => Do("emulator-start", handle, "", cancellationToken);

    public Task EmulatorRestartAsync(string handle, CancellationToken cancellationToken) => Do("emulator-restart", handle, "", cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    private Task Do(string op, string handle, string args, CancellationToken cancellationToken)
    {
        Calls.Enqueue($"{op} {handle} {args}".TrimEnd());
        return Hook(op, handle, cancellationToken);
    }

    public static DeviceInfo Ready(string id, bool emulator = false) => new(id, id, "Pixel 8", DeviceState.Ready, emulator);
}
