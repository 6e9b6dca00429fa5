using Harness.Contracts.Nodes;
using Microsoft.Extensions.Logging;

namespace Harness.Runtimes.Devices.Adb;

/// <summary>
/// Drives devices through an adb server (<c>adb start-server</c>, TCP 5037 by default) with
/// its smart-socket protocol: one TCP connection per command, shell commands through the
/// shell v2 protocol so exit codes come back (Android 7+). Starting a stopped emulator needs
/// the emulator console, which this adapter does not drive: that answers Unavailable.
/// </summary>
public sealed partial class AdbAdapter(string host, int port, TimeSpan requestTimeout, ILogger<AdbAdapter> logger, TimeProvider timeProvider) : IDeviceAdapter
{
    private readonly RequestDeadline _deadline = new(requestTimeout, timeProvider);

    public string Name => DeviceAdapterOptions.AdbAdapter;

    public Task<IReadOnlyList<DeviceInfo>> ListAsync(CancellationToken cancellationToken) =>
        _deadline.RunAsync($"{host}:{port}", "list", async t =>
        {
            await using var adb = await AdbSocket.ConnectAsync(host, port, t);
            await adb.RequestAsync("host:devices-l", t);
            return AdbDeviceList.Parse(await adb.ReadLengthPrefixedAsync(t));
        }, cancellationToken);

    public async Task<bool> CheckConnectionAsync(CancellationToken cancellationToken)
    {
        try
        {
            await _deadline.RunAsync($"{host}:{port}", "version", async t =>
            {
                await using var adb = await AdbSocket.ConnectAsync(host, port, t);
                await adb.RequestAsync("host:version", t);
                return await adb.ReadLengthPrefixedAsync(t);
            }, cancellationToken);
            return true;
        }
        catch (DeviceException ex)
        {
            LogCheckFailed(logger, host, port, ex.Message);
            return false;
        }
    }

    public async Task PingAsync(string handle, CancellationToken cancellationToken)
    {
        var output = await ShellAsync(handle, "echo ok", cancellationToken);
        if (output.Trim() != "ok")
        {
            throw new DeviceException(DeviceErrorKind.Failed, $"{handle}: ping answered '{output.Trim()}' instead of ok.");
        }
    }

    public Task<string> ShellAsync(string handle, string command, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "shell", async t =>
        {
            var result = await AdbShell.RunAsync(host, port, handle, command, t);
            if (result.ExitCode != 0)
            {
                var why = string.IsNullOrWhiteSpace(result.Stderr) ? result.Stdout : result.Stderr;
                throw new DeviceException(DeviceErrorKind.Failed, $"{handle}: `{command}` exited with {result.ExitCode}: {why.Trim()}");
            }
            return result.Stdout;
        }, cancellationToken);

    public Task TapAsync(string handle, int x, int y, CancellationToken cancellationToken) =>
        ShellAsync(handle, AdbShellCommands.Tap(x, y), cancellationToken);

    public Task SwipeAsync(string handle, int x1, int y1, int x2, int y2, int durationMs, CancellationToken cancellationToken) =>
        ShellAsync(handle, AdbShellCommands.Swipe(x1, y1, x2, y2, durationMs), cancellationToken);

    public Task InputTextAsync(string handle, string text, CancellationToken cancellationToken) =>
        ShellAsync(handle, AdbShellCommands.Text(text), cancellationToken);

    public Task KeyEventAsync(string handle, string key, CancellationToken cancellationToken) =>
        ShellAsync(handle, AdbShellCommands.Key(key), cancellationToken);

    public Task LaunchAppAsync(string handle, string package, string? activity, CancellationToken cancellationToken) =>
        ShellAsync(handle, AdbShellCommands.Launch(package, activity), cancellationToken);

    public Task OpenUrlAsync(string handle, string url, CancellationToken cancellationToken) =>
        ShellAsync(handle, AdbShellCommands.OpenUrl(url), cancellationToken);

    public Task<byte[]> ScreenshotAsync(string handle, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "screenshot", async t =>
        {
            await using var adb = await AdbShell.OpenAsync(host, port, handle, "exec:screencap -p", t);
            var png = await adb.ReadToEndAsync(t);
            if (png.Length < 8 || !png.AsSpan(0, 8).SequenceEqual(Simulator.PngEncoder.Signature))
            {
                var text = System.Text.Encoding.UTF8.GetString(png.AsSpan(0, Math.Min(png.Length, 200))).Trim();
                throw png.Length == 0
                    ? new DeviceException(DeviceErrorKind.Unavailable, $"{handle}: screencap returned nothing; the device went away.")
                    : new DeviceException(DeviceErrorKind.Failed, $"{handle}: screencap did not return a PNG: {text}");
            }
            return png;
        }, cancellationToken);

    public Task RebootAsync(string handle, CancellationToken cancellationToken) =>
        _deadline.RunAsync(handle, "reboot", async t =>
        {
            // adbd answers OKAY and then goes down with the device; nothing more to read.
            await using var adb = await AdbShell.OpenAsync(host, port, handle, "reboot:", t);
        }, cancellationToken);

    public async Task EmulatorStartAsync(string handle, CancellationToken cancellationToken)
    {
        var device = await FindAsync(handle, cancellationToken);
        if (device is { State: DeviceState.Ready })
        {
            return; // running already: nothing to start
        }
        throw new DeviceException(DeviceErrorKind.Unavailable, device is null && !handle.StartsWith("emulator-", StringComparison.Ordinal)
            ? $"{handle} is not connected to the adb server at {host}:{port}."
            : $"{handle} is not running, and the adb adapter cannot start emulators: start it with the Android emulator (`emulator -avd …`) or use the vendor-ws adapter.");
    }

    public async Task EmulatorRestartAsync(string handle, CancellationToken cancellationToken)
    {
        var device = await FindAsync(handle, cancellationToken);
        if (device is { IsEmulator: false })
        {
            throw new DeviceException(DeviceErrorKind.Failed, $"{handle} is not an emulator; use reboot.");
        }
        if (device is not { State: DeviceState.Ready })
        {
            throw new DeviceException(DeviceErrorKind.Unavailable,
                $"{handle} is not running, and the adb adapter cannot start emulators: start it with the Android emulator or use the vendor-ws adapter.");
        }
        await RebootAsync(handle, cancellationToken);
    }

    private async Task<DeviceInfo?> FindAsync(string handle, CancellationToken cancellationToken) =>
        (await ListAsync(cancellationToken)).FirstOrDefault(d => d.Handle == handle);

    public ValueTask DisposeAsync() => ValueTask.CompletedTask;

    [LoggerMessage(Level = LogLevel.Warning, Message = "The adb server at {Host}:{Port} failed its connection check: {Reason}")]
    private static partial void LogCheckFailed(ILogger logger, string host, int port, string reason);
}
