using Harness.Contracts.Nodes;
using Harness.Runtimes.Devices.Simulator;
using Microsoft.Extensions.Time.Testing;

namespace Harness.Runtimes.Devices.Tests.Simulator;

public sealed class SimulatedFarmTests
{
    private readonly FakeTimeProvider _time = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));

    private SimulatedFarm Farm(int devices = 4, int seed = 1, TimeSpan? bootTime = null) =>
        new(new SimulatedFarmOptions { Devices = devices, Seed = seed, BootTime = bootTime ?? TimeSpan.Zero }, _time);

    [Fact]
    public void List_NamesDevicesInOrderWithEveryFifthAnEmulator()
    {
        var devices = Farm(devices: 10).List();

        Assert.Equal(["SIM-0001", "SIM-0002", "SIM-0003", "SIM-0004", "SIM-0005", "SIM-0006", "SIM-0007", "SIM-0008", "SIM-0009", "SIM-0010"], devices.Select(d => d.DeviceId));
        Assert.Equal(["SIM-0005", "SIM-0010"], devices.Where(d => d.IsEmulator).Select(d => d.Handle));
        Assert.All(devices, d => Assert.Equal(DeviceState.Ready, d.State));
    }

    [Fact]
    public void SerialPrefix_NamesEveryDevice_SoTwoFarmsNeverShareAnId()
    {
        var farm = new SimulatedFarm(new SimulatedFarmOptions { Devices = 2, SerialPrefix = "PC02" }, _time);

        Assert.Equal(["PC02-0001", "PC02-0002"], farm.List().Select(d => d.DeviceId));
    }

    [Fact]
    public async Task SameSeed_SameFarmAndScreens_OtherSeed_Differs()
    {
        var a = Farm(devices: 8, seed: 42);
        var b = Farm(devices: 8, seed: 42);
        var c = Farm(devices: 8, seed: 43);

        Assert.Equal(a.List(), b.List());
        Assert.Equal(await a.ScreenshotAsync("SIM-0003", default), await b.ScreenshotAsync("SIM-0003", default));
        Assert.NotEqual(await a.ScreenshotAsync("SIM-0003", default), await c.ScreenshotAsync("SIM-0003", default));
    }

    [Fact]
    public async Task CrashingDevice_GoesOfflineAfterKCommands_AndComesBackAfterT()
    {
        var farm = Farm();
        farm.SetFaults("SIM-0001", new DeviceFaults { CrashAfterCommands = 2, CrashDowntime = TimeSpan.FromSeconds(10) });

        await farm.PingAsync("SIM-0001", default);
        await farm.TapAsync("SIM-0001", 1, 1, default);
        var error = await Assert.ThrowsAsync<DeviceException>(() => farm.PingAsync("SIM-0001", default));
        Assert.Equal(DeviceErrorKind.Unavailable, error.Kind);
        Assert.Equal(DeviceState.Offline, farm.List()[0].State);

        _time.Advance(TimeSpan.FromSeconds(9));
        Assert.Equal(DeviceState.Offline, farm.List()[0].State);
        _time.Advance(TimeSpan.FromSeconds(1));

        Assert.Equal(DeviceState.Ready, farm.List()[0].State);
        await farm.PingAsync("SIM-0001", default);
    }

    [Fact]
    public async Task SlowDevice_AnswersOnlyAfterItsLatency()
    {
        var farm = Farm();
        farm.SetFaults("SIM-0002", new DeviceFaults { Latency = TimeSpan.FromMilliseconds(500) });

        var ping = farm.PingAsync("SIM-0002", default);
        _time.Advance(TimeSpan.FromMilliseconds(499));
        Assert.False(ping.IsCompleted);
        _time.Advance(TimeSpan.FromMilliseconds(1));

        await ping.WaitAsync(TimeSpan.FromSeconds(5));
        var entry = Assert.Single(farm.CommandLog);
        Assert.Equal(TimeSpan.FromMilliseconds(500), entry.End - entry.Start);
    }

    [Fact]
    public async Task UnresponsiveDevice_NeverAnswers_UntilCancelled()
    {
        var farm = Farm();
        farm.SetFaults("SIM-0003", new DeviceFaults { Unresponsive = true });
        using var cancel = new CancellationTokenSource();

        var ping = farm.PingAsync("SIM-0003", cancel.Token);
        _time.Advance(TimeSpan.FromHours(1));
        Assert.False(ping.IsCompleted);
        Assert.Equal(1, farm.InFlightCommands("SIM-0003"));
        await cancel.CancelAsync();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => ping);
        Assert.Equal(0, farm.InFlightCommands("SIM-0003"));
        Assert.Equal("cancelled", Assert.Single(farm.CommandLog).Outcome);
    }

    [Fact]
    public async Task CommandLog_RecordsDeviceCommandTimesAndOutcome()
    {
        var farm = Farm();
        farm.SetFaults("SIM-0004", new DeviceFaults { Failing = true });

        await farm.TapAsync("SIM-0001", 3, 4, default);
        await Assert.ThrowsAsync<DeviceException>(() => farm.LaunchAppAsync("SIM-0004", "com.example.app", null, default));

        Assert.Collection(farm.CommandLog,
            e => Assert.Equal(("SIM-0001", "tap 3 4", "ok", _time.GetUtcNow()), (e.Serial, e.Command, e.Outcome, e.Start)),
            e => Assert.Equal(("SIM-0004", "launch com.example.app", "failed"), (e.Serial, e.Command, e.Outcome)));
    }

    [Fact]
    public async Task MaxConcurrentCommands_SeesTwoCommandsOnOneDeviceAtOnce()
    {
        var farm = Farm();
        farm.SetFaults("SIM-0001", new DeviceFaults { Latency = TimeSpan.FromSeconds(1) });

        await farm.PingAsync("SIM-0002", default);
        await farm.PingAsync("SIM-0002", default);
        var both = Task.WhenAll(farm.PingAsync("SIM-0001", default), farm.TapAsync("SIM-0001", 1, 1, default));
        Assert.Equal(2, farm.InFlightCommands("SIM-0001"));
        _time.Advance(TimeSpan.FromSeconds(1));
        await both.WaitAsync(TimeSpan.FromSeconds(5));

        Assert.Equal(2, farm.MaxConcurrentCommands("SIM-0001"));
        Assert.Equal(1, farm.MaxConcurrentCommands("SIM-0002"));
        Assert.Equal(0, farm.MaxConcurrentCommands("SIM-0003"));
    }

    [Fact]
    public async Task SetFaults_AtRuntime_FlipsADeviceOfflineAndBack()
    {
        var farm = Farm();

        farm.SetFaults("SIM-0002", new DeviceFaults { Offline = true });
        Assert.Equal(DeviceState.Offline, farm.List()[1].State);
        await Assert.ThrowsAsync<DeviceException>(() => farm.PingAsync("SIM-0002", default));

        farm.SetFaults("SIM-0002", DeviceFaults.None);
        Assert.Equal(DeviceState.Ready, farm.List()[1].State);
        await farm.PingAsync("SIM-0002", default);
    }

    [Fact]
    public async Task EmulatorStart_StoppedEmulator_BootsItBack_PhysicalDevice_IsUnavailable()
    {
        var farm = Farm(devices: 5, bootTime: TimeSpan.FromSeconds(20));
        farm.SetFaults("SIM-0005", new DeviceFaults { Offline = true });
        farm.SetFaults("SIM-0001", new DeviceFaults { Offline = true });

        await farm.EmulatorStartAsync("SIM-0005", default);
        Assert.Equal(DeviceState.Booting, farm.List()[4].State);
        await Assert.ThrowsAsync<DeviceException>(() => farm.PingAsync("SIM-0005", default));
        _time.Advance(TimeSpan.FromSeconds(20));
        Assert.Equal(DeviceState.Ready, farm.List()[4].State);
        await farm.PingAsync("SIM-0005", default);

        var error = await Assert.ThrowsAsync<DeviceException>(() => farm.EmulatorStartAsync("SIM-0001", default));
        Assert.Equal(DeviceErrorKind.Unavailable, error.Kind);
    }

    [Fact]
    public async Task Shell_InterpretsTheAdbAdaptersCommands()
    {
        var farm = Farm();

        await farm.ShellAsync("SIM-0001", "input text 'it'\\''s%sfine'", default);
        await farm.ShellAsync("SIM-0001", "am start -a android.intent.action.VIEW -d 'https://x.test/?a=1&b=2'", default);

        Assert.Equal("it's fine", farm.Screen("SIM-0001").Typed);
        Assert.Equal("https://x.test/?a=1&b=2", farm.Screen("SIM-0001").Url);
        Assert.Equal(DeviceErrorKind.Failed, (await Assert.ThrowsAsync<DeviceException>(() => farm.ShellAsync("SIM-0001", "input tap a b", default))).Kind);
    }
}
