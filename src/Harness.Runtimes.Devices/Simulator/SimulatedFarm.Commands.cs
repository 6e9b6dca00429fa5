using Harness.Contracts.Nodes;

namespace Harness.Runtimes.Devices.Simulator;

public sealed partial class SimulatedFarm
{
    public Task PingAsync(string serial, CancellationToken cancellationToken) =>
        RunAsync(serial, "ping", _ => true, cancellationToken);

    public Task<string> ShellAsync(string serial, string command, CancellationToken cancellationToken) =>
        RunAsync(serial, "shell " + command, d => SimulatedShell.Run(this, d, command), cancellationToken);

    public Task TapAsync(string serial, int x, int y, CancellationToken cancellationToken) =>
        RunAsync(serial, $"tap {x} {y}", d => { d.Touched(x, y); return true; }, cancellationToken);

    public Task SwipeAsync(string serial, int x1, int y1, int x2, int y2, int durationMs, CancellationToken cancellationToken) =>
        RunAsync(serial, $"swipe {x1} {y1} {x2} {y2} {durationMs}", d => { d.Touched(x2, y2); return true; }, cancellationToken);

    public Task InputTextAsync(string serial, string text, CancellationToken cancellationToken) =>
        RunAsync(serial, "text " + text, d => { d.Typed += text; d.ScreenVersion++; return true; }, cancellationToken);

    public Task KeyEventAsync(string serial, string key, CancellationToken cancellationToken) =>
        RunAsync(serial, "key " + key, d =>
        {
            if (key is "HOME" or "KEYCODE_HOME" or "3")
            {
                d.GoHome();
            }
            else
            {
                d.ScreenVersion++;
            }
            return true;
        }, cancellationToken);

    public Task LaunchAppAsync(string serial, string package, string? activity, CancellationToken cancellationToken) =>
        RunAsync(serial, $"launch {package}{(activity is null ? "" : "/" + activity)}", d =>
        {
            d.Foreground = package;
            d.Url = null;
            d.ScreenVersion++;
            return true;
        }, cancellationToken);

    public Task OpenUrlAsync(string serial, string url, CancellationToken cancellationToken) =>
        RunAsync(serial, "open_url " + url, d =>
        {
            d.Foreground = "com.android.chrome";
            d.Url = url;
            d.ScreenVersion++;
            return true;
        }, cancellationToken);

    public Task<byte[]> ScreenshotAsync(string serial, CancellationToken cancellationToken) =>
        RunAsync(serial, "screenshot", d => d.Render(), cancellationToken);

    public Task RebootAsync(string serial, CancellationToken cancellationToken) =>
        RunAsync(serial, "reboot", d => { Reboot(d); return true; }, cancellationToken);

    /// <summary>Starts a stopped (offline) emulator; a no-op for a running one or a physical device that is up.</summary>
    public Task EmulatorStartAsync(string serial, CancellationToken cancellationToken) =>
        RunAsync(serial, "emulator_start", d =>
        {
            if (d.StateAt(_time.GetUtcNow()) == DeviceState.Offline)
            {
                if (!d.IsEmulator)
                {
                    throw new DeviceException(DeviceErrorKind.Unavailable, $"{d.Serial} is a physical device and offline; only emulators can be started.");
                }
                d.Faults = d.Faults with { Offline = false };
                d.CrashedUntil = DateTimeOffset.MinValue;
                Reboot(d);
            }
            return true;
        }, cancellationToken, allowWhenDown: true);

    public Task EmulatorRestartAsync(string serial, CancellationToken cancellationToken) =>
        RunAsync(serial, "emulator_restart", d =>
        {
            if (!d.IsEmulator)
            {
                throw new DeviceException(DeviceErrorKind.Failed, $"{d.Serial} is not an emulator; use reboot.");
            }
            d.Faults = d.Faults with { Offline = false };
            d.CrashedUntil = DateTimeOffset.MinValue;
            Reboot(d);
            return true;
        }, cancellationToken, allowWhenDown: true);

    internal void Reboot(SimulatedDevice device)
    {
        device.GoHome();
        device.BootingUntil = _time.GetUtcNow() + _bootTime;
    }

    /// <summary>
    /// The path of every command: availability, then the faults (unresponsive, slow, failing),
    /// then the action under the device's lock, then the crash countdown.
    /// </summary>
    private async Task<T> RunAsync<T>(string serial, string command, Func<SimulatedDevice, T> action, CancellationToken cancellationToken, bool allowWhenDown = false)
    {
        var device = Find(serial);
        var start = _time.GetUtcNow();
        var outcome = "ok";
        device.Enter();
        try
        {
            DeviceFaults faults;
            lock (device.Gate)
            {
                if (!allowWhenDown)
                {
                    ThrowIfDown(device);
                }
                faults = device.Faults;
            }
            if (faults.Unresponsive)
            {
                await Task.Delay(Timeout.InfiniteTimeSpan, _time, cancellationToken);
            }
            if (faults.Latency > TimeSpan.Zero)
            {
                await Task.Delay(faults.Latency, _time, cancellationToken);
            }
            lock (device.Gate)
            {
                if (!allowWhenDown)
                {
                    ThrowIfDown(device); // it may have crashed while we waited
                }
                if (device.Faults.Failing)
                {
                    throw new DeviceException(DeviceErrorKind.Failed, $"{serial}: {command.Split(' ')[0]} failed (simulated failure).");
                }
                var result = action(device);
                CountTowardsCrash(device);
                return result;
            }
        }
        catch (DeviceException ex)
        {
            outcome = ex.Kind.ToString().ToLowerInvariant();
            throw;
        }
        catch (OperationCanceledException)
        {
            outcome = "cancelled";
            throw;
        }
        finally
        {
            device.Exit();
            _log.Enqueue(new CommandLogEntry(serial, command, start, _time.GetUtcNow(), outcome));
        }
    }

    private void ThrowIfDown(SimulatedDevice device)
    {
        switch (device.StateAt(_time.GetUtcNow()))
        {
            case DeviceState.Offline:
                throw new DeviceException(DeviceErrorKind.Unavailable, $"{device.Serial} is offline.");
            case DeviceState.Booting:
                throw new DeviceException(DeviceErrorKind.Unavailable, $"{device.Serial} is booting.");
            default:
                return;
        }
    }

    private void CountTowardsCrash(SimulatedDevice device)
    {
        if (device.Faults.CrashAfterCommands is not { } limit)
        {
            return;
        }
        if (++device.CommandsSinceCrash >= limit)
        {
            device.CommandsSinceCrash = 0;
            device.CrashedUntil = _time.GetUtcNow() + device.Faults.CrashDowntime;
        }
    }
}
