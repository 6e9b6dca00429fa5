using System.Diagnostics;
using Harness.Contracts.Nodes;
using Harness.DeviceSim;
using Harness.Runtimes.Devices.Adb;
using Harness.Runtimes.Devices.Simulator;
using Microsoft.Extensions.Logging.Abstractions;
using Xunit.Abstractions;

namespace Harness.Runtimes.Devices.Tests.Adb;

public sealed class AdbAdapterTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string AdbClient = "/usr/bin/adb";
    private readonly SimulatedFarm _farm = new(new SimulatedFarmOptions { Devices = 5 });
    private DeviceSimServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = new DeviceSimServer(_farm, new DeviceSimServerOptions { WsUrl = "ws://127.0.0.1:0", AdbPort = 0 });
        await _server.StartAsync(default);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private AdbAdapter Adapter() => new("127.0.0.1", _server.AdbPort!.Value, TimeSpan.FromSeconds(5), NullLogger<AdbAdapter>.Instance, TimeProvider.System);

    [Fact]
    public async Task EmulatorStart_StoppedEmulator_IsUnavailableAndSaysWhy()
    {
        _farm.SetFaults("SIM-0005", new DeviceFaults { Offline = true });
        await using var adapter = Adapter();

        var error = await Assert.ThrowsAsync<DeviceException>(() => adapter.EmulatorStartAsync("SIM-0005", default));

        Assert.Equal(DeviceErrorKind.Unavailable, error.Kind);
        Assert.Contains("cannot start emulators", error.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeviceThatCrashesMidCommand_IsUnavailable()
    {
        _farm.SetFaults("SIM-0001", new DeviceFaults { CrashAfterCommands = 1, CrashDowntime = TimeSpan.FromMinutes(1) });
        await using var adapter = Adapter();

        await adapter.PingAsync("SIM-0001", default);
        var error = await Assert.ThrowsAsync<DeviceException>(() => adapter.PingAsync("SIM-0001", default));

        Assert.Equal(DeviceErrorKind.Unavailable, error.Kind);
    }

    [Fact]
    public async Task CancelledCall_HangsUp_SoTheDeviceStopsWorkingOnIt()
    {
        _farm.SetFaults("SIM-0003", new DeviceFaults { Unresponsive = true });
        await using var adapter = Adapter();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => adapter.TapAsync("SIM-0003", 1, 1, cancel.Token));

        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (_farm.InFlightCommands("SIM-0003") > 0)
        {
            Assert.True(DateTime.UtcNow < deadline, "the simulator still runs the abandoned command");
            await Task.Delay(25);
        }
    }

    [Theory]
    [InlineData("HOME; reboot")]
    [InlineData("$(reboot)")]
    public void Key_ThatIsNotAKeyCode_IsRefusedBeforeReachingTheShell(string key)
    {
        Assert.Equal(DeviceErrorKind.Failed, Assert.Throws<DeviceException>(() => AdbShellCommands.Key(key)).Kind);
    }

    [Fact]
    public void Launch_WithABadPackageOrActivity_IsRefused()
    {
        Assert.Throws<DeviceException>(() => AdbShellCommands.Launch("com.x;reboot", null));
        Assert.Throws<DeviceException>(() => AdbShellCommands.Launch("com.x", ".Main && reboot"));
        Assert.Equal("am start -n com.x/.Main", AdbShellCommands.Launch("com.x", ".Main"));
        Assert.Equal("input keyevent KEYCODE_HOME", AdbShellCommands.Key("home"));
    }

    [Fact]
    public void DeviceList_ReadsRealAdbOutput()
    {
        var devices = AdbDeviceList.Parse("""
            emulator-5554          device product:sdk_gphone64_x86_64 model:sdk_gphone64_x86_64 device:emu64xa transport_id:1
            R58M123ABC             unauthorized usb:1-1 transport_id:2
            0123456789ABCDEF       no permissions (user in plugdev group; are your udev rules wrong?); see [http://developer.android.com/tools/device.html] usb:1-2 transport_id:3
            192.168.1.20:5555      offline transport_id:4
            """);

        Assert.Equal(
            [("emulator-5554", DeviceState.Ready, true), ("R58M123ABC", DeviceState.Unauthorized, false), ("0123456789ABCDEF", DeviceState.Unauthorized, false), ("192.168.1.20:5555", DeviceState.Offline, false)],
            devices.Select(d => (d.Handle, d.State, d.IsEmulator)));
        Assert.Equal("sdk_gphone64_x86_64", devices[0].Model);
    }

    /// <summary>Debian's adb client (apt-get install -y adb) against the simulator; skipped in effect where it is not installed.</summary>
    [Fact]
    public async Task RealAdbClient_ListsAndDrivesTheSimulatedDevices()
    {
        if (!File.Exists(AdbClient))
        {
            output.WriteLine($"{AdbClient} is not installed (apt-get install -y adb); nothing to check.");
            return;
        }
        _farm.SetFaults("SIM-0002", new DeviceFaults { Offline = true });
        var port = _server.AdbPort!.Value.ToString(System.Globalization.CultureInfo.InvariantCulture);

        var (exit, list) = await RunAdbAsync("-P", port, "devices", "-l");
        Assert.Equal(0, exit);
        Assert.Matches(@"SIM-0001\s+device product:\S+ model:\S+", list);
        Assert.Matches(@"SIM-0002\s+offline", list);

        var (shellExit, model) = await RunAdbAsync("-P", port, "-s", "SIM-0001", "shell", "getprop", "ro.product.model");
        Assert.Equal(0, shellExit);
        Assert.Equal(_farm.List()[0].Model, model.Trim());

        await RunAdbAsync("-P", port, "-s", "SIM-0001", "shell", "input", "text", "hi%sthere");
        Assert.Equal("hi there", _farm.Screen("SIM-0001").Typed);
    }

    private async Task<(int Exit, string Output)> RunAdbAsync(params string[] args)
    {
        var info = new ProcessStartInfo(AdbClient) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var adb = Process.Start(info)!;
        var stdout = adb.StandardOutput.ReadToEndAsync();
        var stderr = adb.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        try
        {
            await adb.WaitForExitAsync(timeout.Token);
        }
        catch (OperationCanceledException)
        {
            adb.Kill(); // this process only, by its own handle
            throw;
        }
        output.WriteLine($"adb {string.Join(' ', args)} → {adb.ExitCode}\n{await stdout}{await stderr}");
        return (adb.ExitCode, await stdout);
    }
}
