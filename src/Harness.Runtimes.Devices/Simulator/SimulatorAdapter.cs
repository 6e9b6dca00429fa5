namespace Harness.Runtimes.Devices.Simulator;

/// <summary>The in-process adapter over a <see cref="SimulatedFarm"/>: no sockets, same behaviour as the wire adapters.</summary>
public sealed class SimulatorAdapter(SimulatedFarm farm, TimeSpan requestTimeout) : IDeviceAdapter
{
    private readonly RequestDeadline _deadline = new(requestTimeout, farm.TimeProvider);

    public string Name => DeviceAdapterOptions.SimulatorAdapter;

    public SimulatedFarm Farm => farm;

    public Task<IReadOnlyList<DeviceInfo>> ListAsync(CancellationToken cancellationToken) => Task.FromResult(farm.List());

    public Task<bool> CheckConnectionAsync(CancellationToken cancellationToken) => Task.FromResult(true);

    public Task PingAsync(string handle, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "ping", t => farm.PingAsync(handle, t), cancellationToken);

    public Task<string> ShellAsync(string handle, string command, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "shell", t => farm.ShellAsync(handle, command, t), cancellationToken);

    public Task TapAsync(string handle, int x, int y, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "tap", t => farm.TapAsync(handle, x, y, t), cancellationToken);

    public Task SwipeAsync(string handle, int x1, int y1, int x2, int y2, int durationMs, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "swipe", t => farm.SwipeAsync(handle, x1, y1, x2, y2, durationMs, t), cancellationToken);

    public Task InputTextAsync(string handle, string text, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "text", t => farm.InputTextAsync(handle, text, t), cancellationToken);

    public Task KeyEventAsync(string handle, string key, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "key", t => farm.KeyEventAsync(handle, key, t), cancellationToken);

    public Task LaunchAppAsync(string handle, string package, string? activity, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "launch", t => farm.LaunchAppAsync(handle, package, activity, t), cancellationToken);

    public Task OpenUrlAsync(string handle, string url, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "open_url", t => farm.OpenUrlAsync(handle, url, t), cancellationToken);

    public Task<byte[]> ScreenshotAsync(string handle, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "screenshot", t => farm.ScreenshotAsync(handle, t), cancellationToken);

    public Task RebootAsync(string handle, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "reboot", t => farm.RebootAsync(handle, t), cancellationToken);

    public Task EmulatorStartAsync(string handle, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "emulator_start", t => farm.EmulatorStartAsync(handle, t), cancellationToken);

    public Task EmulatorRestartAsync(string handle, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "emulator_restart", t => farm.EmulatorRestartAsync(handle, t), cancellationToken);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;
}
