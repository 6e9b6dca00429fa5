using Harness.Agent.Execution;
using Harness.Agent.Inventory;
using Harness.Agent.Tests.Fakes;
using Harness.Contracts.Nodes;
using Harness.Runtimes.Devices;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Microsoft.Extensions.Time.Testing;

namespace Harness.Agent.Tests.Inventory;

public sealed class DevicesInventoryTests
{
    private readonly FakeTimeProvider _time = new(TestTasks.Start);
    private readonly FakeDeviceAdapter _adapter = new() { Devices = [FakeDeviceAdapter.Ready("d1"), FakeDeviceAdapter.Ready("d2")] };
    private readonly AgentOptions _options = new() { Name = "PC-01", Devices = { QuarantineAfterFailures = 3, ShutdownDrainSec = 0 } };
    private readonly DeviceHealth _health;
    private readonly DeviceDirectory _directory;
    private readonly DevicesInventory _inventory;

    public DevicesInventoryTests()
    {
        _health = new DeviceHealth(Options.Create(_options), NullLogger<DeviceHealth>.Instance);
        _directory = new DeviceDirectory(_adapter, _time);
        _inventory = new DevicesInventory(_adapter, _directory, _health, Options.Create(_options), NullLogger<DevicesInventory>.Instance);
    }

    [Fact]
    public async Task Snapshot_ReportsListedDevices_QuarantineAndTheVendorConnection()
    {
        for (var i = 0; i < 3; i++)
        {
            _health.RecordFailure("d2", "ping timed out");
        }

        var devices = await _inventory.SnapshotAsync(default);

        Assert.True(_inventory.VendorConnectionOk);
        Assert.Equal([("d1", false), ("d2", true)], devices!.Select(d => (d.DeviceId!, d.Quarantined!.Value)));
        Assert.All(devices!, d => Assert.Equal(DeviceState.Ready, d.State));
    }

    [Fact]
    public async Task BackendThatCannotList_ReportsTheLastKnownDevicesOffline_WithTheReason()
    {
        await _inventory.SnapshotAsync(default);
        _adapter.Connected = false;
        _adapter.ListError = new DeviceException(DeviceErrorKind.BackendDown, "vendor service unreachable at ws://127.0.0.1:22222");

        var devices = await _inventory.SnapshotAsync(default);

        Assert.False(_inventory.VendorConnectionOk);
        Assert.Equal(2, devices!.Count);
        Assert.All(devices!, d => Assert.Equal(DeviceState.Offline, d.State));
        Assert.All(devices!, d => Assert.Contains("vendor service unreachable", d.Error, StringComparison.Ordinal));
    }

    [Fact]
    public async Task Probes_QuarantineAReadyDeviceThatKeepsFailingPings_AndASuccessClearsIt()
    {
        var scheduler = new DeviceScheduler(new ControlledRunner(), _health, new RecordingOutbox(), new Harness.Agent.Listener.AgentStatus(), Options.Create(_options), _time,
            NullLogger<DeviceScheduler>.Instance);
        var probes = new DeviceProbeLoop(_adapter, _inventory, _directory, _health, scheduler, Options.Create(_options), _time, NullLogger<DeviceProbeLoop>.Instance);
        var d2Dead = true;
        _adapter.Hook = (op, handle, _) => op == "ping" && handle == "d2" && d2Dead ? throw new DeviceException(DeviceErrorKind.Unavailable, "no answer") : Task.CompletedTask;

        for (var round = 1; round <= 3; round++)
        {
            Assert.False(_health.IsQuarantined("d2"));
            await probes.ProbeOnceAsync(default);
        }

        Assert.True(_health.IsQuarantined("d2"));
        Assert.False(_health.IsQuarantined("d1"));
        d2Dead = false;
        await probes.ProbeOnceAsync(default);
        Assert.False(_health.IsQuarantined("d2"));
        scheduler.Dispose();
    }

    [Fact]
    public async Task Probes_LeaveBusyDevicesAlone()
    {
        using var scheduler = new DeviceScheduler(new ControlledRunner(), _health, new RecordingOutbox(), new Harness.Agent.Listener.AgentStatus(), Options.Create(_options), _time,
            NullLogger<DeviceScheduler>.Instance);
        var probes = new DeviceProbeLoop(_adapter, _inventory, _directory, _health, scheduler, Options.Create(_options), _time, NullLogger<DeviceProbeLoop>.Instance);
        await scheduler.SubmitAsync([TestTasks.Task("d1")], default);

        await probes.ProbeOnceAsync(default);

        Assert.Equal(["ping d2"], _adapter.Calls);
        await scheduler.StopAsync(default);
    }
}
