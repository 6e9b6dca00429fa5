using Harness.Contracts.Nodes;
using Harness.Runtimes.Devices.Simulator;
using static Harness.Runtimes.Devices.Tests.Conformance.ConformanceFarm;

namespace Harness.Runtimes.Devices.Tests.Conformance;

/// <summary>
/// One suite, every adapter: each subclass serves the same simulated farm its own way (in
/// process, vendor WebSocket, adb protocol) and every adapter must behave the same.
/// </summary>
public abstract class DeviceAdapterConformanceTests : IAsyncLifetime
{
    private IDeviceAdapter? _adapter;

    protected SimulatedFarm Farm { get; } = ConformanceFarm.Create();

    protected IDeviceAdapter Adapter => _adapter ?? throw new InvalidOperationException("not started");

    /// <summary>Serves <see cref="Farm"/> and returns an adapter talking to it.</summary>
    protected abstract Task<IDeviceAdapter> StartAsync();

    /// <summary>An adapter whose backend is not running; null when the adapter has no backend.</summary>
    protected abstract IDeviceAdapter? CreateWithBackendDown();

    protected virtual Task StopAsync() => Task.CompletedTask;

    public async Task InitializeAsync() => _adapter = await StartAsync();

    public async Task DisposeAsync()
    {
        if (_adapter is not null)
        {
            await _adapter.DisposeAsync();
        }
        await StopAsync();
    }

    private static CancellationToken Soon => new CancellationTokenSource(TimeSpan.FromSeconds(10)).Token;

    [Fact]
    public async Task List_ReturnsEveryDeviceWithItsState()
    {
        var devices = await Adapter.ListAsync(Soon);

        Assert.Equal(Farm.Serials, devices.Select(d => d.Handle));
        Assert.Equal(DeviceState.Ready, devices.Single(d => d.Handle == Ready).State);
        Assert.Equal(DeviceState.Offline, devices.Single(d => d.Handle == Offline).State);
        Assert.Equal(DeviceState.Ready, devices.Single(d => d.Handle == Unresponsive).State);
        Assert.True(devices.Single(d => d.Handle == Emulator).IsEmulator);
        Assert.False(devices.Single(d => d.Handle == Ready).IsEmulator);
        Assert.All(devices, d => Assert.False(string.IsNullOrWhiteSpace(d.Model)));
        Assert.All(devices, d => Assert.Equal(d.Handle, d.DeviceId));
    }

    [Fact]
    public async Task CheckConnection_WhenBackendAnswers_ReturnsTrue()
    {
        Assert.True(await Adapter.CheckConnectionAsync(Soon));
    }

    [Fact]
    public async Task Ping_ReadyDevice_Answers()
    {
        await Adapter.PingAsync(Ready, Soon);

        Assert.Contains(Farm.CommandLog, e => e.Serial == Ready && e.Outcome == "ok");
    }

    [Fact]
    public async Task Ping_OfflineDevice_ThrowsUnavailable()
    {
        var error = await Assert.ThrowsAsync<DeviceException>(() => Adapter.PingAsync(Offline, Soon));

        Assert.Equal(DeviceErrorKind.Unavailable, error.Kind);
    }

    [Fact]
    public async Task Ping_UnresponsiveDevice_StopsWhenTheCallerCancels()
    {
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => Adapter.PingAsync(Unresponsive, cancel.Token));
    }

    [Fact]
    public async Task Ping_UnresponsiveDevice_PastTheRequestTimeout_ThrowsUnavailable()
    {
        var error = await Assert.ThrowsAsync<DeviceException>(() => Adapter.PingAsync(Unresponsive, CancellationToken.None));

        Assert.Equal(DeviceErrorKind.Unavailable, error.Kind);
        Assert.Contains(Unresponsive, error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task Shell_AnswersLikeADevice()
    {
        var model = Farm.List().Single(d => d.Handle == Ready).Model;

        Assert.Equal(model, (await Adapter.ShellAsync(Ready, "getprop ro.product.model", Soon)).Trim());
        Assert.Equal("hello there", (await Adapter.ShellAsync(Ready, "echo hello there", Soon)).Trim());
        Assert.Contains("package:com.android.settings", await Adapter.ShellAsync(Ready, "pm list packages", Soon), StringComparison.Ordinal);
        Assert.Equal("", await Adapter.ShellAsync(Ready, "true", Soon));
    }

    [Fact]
    public async Task Commands_OnReadyDevice_ChangeWhatItShows()
    {
        await Adapter.LaunchAppAsync(Ready, "com.example.app", null, Soon);
        Assert.Equal("com.example.app", Farm.Screen(Ready).Foreground);

        await Adapter.LaunchAppAsync(Ready, "com.android.settings", ".Settings", Soon);
        Assert.Equal("com.android.settings", Farm.Screen(Ready).Foreground);

        await Adapter.TapAsync(Ready, 10, 20, Soon);
        await Adapter.SwipeAsync(Ready, 10, 300, 10, 40, 250, Soon);
        await Adapter.InputTextAsync(Ready, "hello world 'quoted' & $HOME", Soon);
        Assert.Equal("hello world 'quoted' & $HOME", Farm.Screen(Ready).Typed);

        const string url = "https://example.com/login?next=/a&b='x' y";
        await Adapter.OpenUrlAsync(Ready, url, Soon);
        Assert.Equal(url, Farm.Screen(Ready).Url);

        var before = Farm.Screen(Ready).Version;
        await Adapter.KeyEventAsync(Ready, "KEYCODE_BACK", Soon);
        Assert.True(Farm.Screen(Ready).Version > before);
        await Adapter.KeyEventAsync(Ready, "HOME", Soon);
        Assert.Equal("com.android.launcher3", Farm.Screen(Ready).Foreground);
    }

    [Fact]
    public async Task Reboot_ReadyDevice_ReturnsItToTheHomeScreen()
    {
        await Adapter.LaunchAppAsync(Ready, "com.example.app", null, Soon);

        await Adapter.RebootAsync(Ready, Soon);

        Assert.Equal("com.android.launcher3", Farm.Screen(Ready).Foreground);
    }

    [Fact]
    public async Task EmulatorStartAndRestart_RunningEmulator_Succeed()
    {
        await Adapter.LaunchAppAsync(Emulator, "com.example.app", null, Soon);

        await Adapter.EmulatorStartAsync(Emulator, Soon);
        Assert.Equal("com.example.app", Farm.Screen(Emulator).Foreground);

        await Adapter.EmulatorRestartAsync(Emulator, Soon);
        Assert.Equal("com.android.launcher3", Farm.Screen(Emulator).Foreground);
        await Adapter.PingAsync(Emulator, Soon);
    }

    [Fact]
    public async Task EmulatorRestart_PhysicalDevice_ThrowsFailed()
    {
        var error = await Assert.ThrowsAsync<DeviceException>(() => Adapter.EmulatorRestartAsync(Ready, Soon));

        Assert.Equal(DeviceErrorKind.Failed, error.Kind);
    }

    [Fact]
    public async Task Screenshot_IsAValidPngThatChangesWithTheScreen()
    {
        var first = PngFile.Read(await Adapter.ScreenshotAsync(Ready, Soon));
        await Adapter.TapAsync(Ready, 90, 160, Soon);
        var second = PngFile.Read(await Adapter.ScreenshotAsync(Ready, Soon));

        Assert.Equal((SimulatedFarm.ScreenWidth, SimulatedFarm.ScreenHeight), (first.Width, first.Height));
        Assert.Equal(["IHDR", "IDAT", "IEND"], first.Chunks);
        Assert.NotEqual(first.Pixels, second.Pixels);
    }

    [Fact]
    public async Task FailingDevice_EveryCommand_ThrowsFailed()
    {
        var calls = new Func<Task>[]
        {
            () => Adapter.PingAsync(Failing, Soon),
            () => Adapter.ShellAsync(Failing, "echo x", Soon),
            () => Adapter.TapAsync(Failing, 1, 1, Soon),
            () => Adapter.InputTextAsync(Failing, "x", Soon),
            () => Adapter.LaunchAppAsync(Failing, "com.example.app", null, Soon),
            () => Adapter.ScreenshotAsync(Failing, Soon),
        };
        foreach (var call in calls)
        {
            var error = await Assert.ThrowsAsync<DeviceException>(call);
            Assert.Equal(DeviceErrorKind.Failed, error.Kind);
        }
    }

    [Fact]
    public async Task OfflineDevice_Commands_ThrowUnavailable()
    {
        foreach (var call in new Func<Task>[] { () => Adapter.TapAsync(Offline, 1, 1, Soon), () => Adapter.ScreenshotAsync(Offline, Soon) })
        {
            Assert.Equal(DeviceErrorKind.Unavailable, (await Assert.ThrowsAsync<DeviceException>(call)).Kind);
        }
    }

    [Fact]
    public async Task UnknownSerial_ThrowsNotFound()
    {
        foreach (var call in new Func<Task>[] { () => Adapter.PingAsync(Unknown, Soon), () => Adapter.TapAsync(Unknown, 1, 1, Soon) })
        {
            Assert.Equal(DeviceErrorKind.NotFound, (await Assert.ThrowsAsync<DeviceException>(call)).Kind);
        }
    }

    [Fact]
    public async Task DeviceThatComesBack_AnswersAgain()
    {
        Farm.SetFaults(Ready, new DeviceFaults { Offline = true });
        Assert.Equal(DeviceErrorKind.Unavailable, (await Assert.ThrowsAsync<DeviceException>(() => Adapter.PingAsync(Ready, Soon))).Kind);

        Farm.SetFaults(Ready, DeviceFaults.None);

        await Adapter.PingAsync(Ready, Soon);
    }

    [Fact]
    public async Task BackendDown_ThrowsBackendDownAndFailsTheCheck()
    {
        await using var adapter = CreateWithBackendDown();
        if (adapter is null)
        {
            return; // in process: there is no backend to lose
        }

        Assert.False(await adapter.CheckConnectionAsync(Soon));
        Assert.Equal(DeviceErrorKind.BackendDown, (await Assert.ThrowsAsync<DeviceException>(() => adapter.ListAsync(Soon))).Kind);
        Assert.Equal(DeviceErrorKind.BackendDown, (await Assert.ThrowsAsync<DeviceException>(() => adapter.PingAsync(Ready, Soon))).Kind);
    }

    [Fact]
    public async Task ManyDevices_DrivenConcurrently_EachRunsOneCommandAtATime()
    {
        var healthy = Healthy(Farm).ToList();
        foreach (var serial in healthy)
        {
            Farm.SetFaults(serial, new DeviceFaults { Latency = TimeSpan.FromMilliseconds(40) });
        }

        await Task.WhenAll(healthy.Select(async serial =>
        {
            await Adapter.PingAsync(serial, Soon);
            await Adapter.LaunchAppAsync(serial, "com.example.app", null, Soon);
            await Adapter.TapAsync(serial, 5, 5, Soon);
            PngFile.Read(await Adapter.ScreenshotAsync(serial, Soon));
        }));

        var log = Farm.CommandLog.Where(e => healthy.Contains(e.Serial)).ToList();
        Assert.All(log, e => Assert.Equal("ok", e.Outcome));
        Assert.All(healthy, serial => Assert.Equal(1, Farm.MaxConcurrentCommands(serial)));
        // The devices really ran side by side: some two commands on different devices overlapped.
        Assert.Contains(log, a => log.Any(b => b.Serial != a.Serial && b.Start < a.End && a.Start < b.End));
    }
}
