using System.Text.Json;
using Harness.Cli.Tests.Operator;
using Harness.Contracts;
using Harness.Contracts.Devices;
using Harness.Contracts.Dispatch;

namespace Harness.Cli.Tests.Commands.Devices;

public sealed class DevicesCommandTests : IDisposable
{
    private readonly CliRunner _cli = new();

    public void Dispose() => _cli.Dispose();

    [Fact]
    public async Task List_TableByIndex_OnlineOffline_LastSeenAgo_Error()
    {
        _cli.Api.OnJson<IReadOnlyList<DeviceView>>("GET", Routes.Devices,
        [
            new("SIM-0002", "emulator-5556", 2, null, "PC-01", "Pixel 7", "Offline", "offline", CliRunner.Start.AddMinutes(-5), "adb: device not found"),
            new("NEW-1", null, null, null, "PC-02", null, "Online", "ready", CliRunner.Start.AddSeconds(-3), null),
            new("SIM-0001", "emulator-5554", 1, null, "PC-01", "Pixel 7", "Online", "ready", CliRunner.Start.AddSeconds(-12), null),
        ], StubApi.Wire.IReadOnlyListDeviceView);

        var result = await _cli.RunAsync("devices", "list");

        Assert.Equal(0, result.Exit);
        Assert.Equal(["INDEX", "DEVICE_ID", "NODE", "MODEL", "STATUS", "STATE", "LAST_SEEN", "ERROR"], Cells(result.Lines[0]));
        Assert.Equal(["1", "SIM-0001", "PC-01", "Pixel 7", "Online", "ready", "12s ago"], Cells(result.Lines[1]));
        Assert.Equal(["2", "SIM-0002", "PC-01", "Pixel 7", "Offline", "offline", "5m00s ago", "adb: device not found"], Cells(result.Lines[2]));
        Assert.Equal(["-", "NEW-1", "PC-02", "-", "Online", "ready", "3s ago"], Cells(result.Lines[3]));
        Assert.Equal("3 devices: 2 Online, 1 Offline", result.Lines[^1]);
    }

    [Fact]
    public async Task List_Json_IsAnArrayOfDevices()
    {
        _cli.Api.OnJson<IReadOnlyList<DeviceView>>("GET", Routes.Devices,
            [new("SIM-0001", null, 1, null, "PC-01", null, "Online", null, null, null)], StubApi.Wire.IReadOnlyListDeviceView);

        var result = await _cli.RunAsync("devices", "list", "--json");

        using var json = JsonDocument.Parse(result.Out);
        Assert.Equal("SIM-0001", json.RootElement[0].GetProperty("device_id").GetString());
        Assert.Equal(1, json.RootElement[0].GetProperty("index_no").GetInt32());
    }

    [Fact]
    public async Task Scan_OneNode_PostsItsId()
    {
        _cli.Api.OnJson<IReadOnlyList<ScanJobView>>("POST", Routes.NodesScan,
            [new(Guid.NewGuid(), "PC-01", ScanStatus.Pending, null, null, CliRunner.Start, null, null)], StubApi.Wire.IReadOnlyListScanJobView);

        var result = await _cli.RunAsync("devices", "scan", "--node", "PC-01");

        Assert.Equal(0, result.Exit);
        Assert.Equal("""{"node_id":"PC-01"}""", _cli.Api.Single("POST", Routes.NodesScan).Body);
        Assert.Contains(result.Lines, l => l.Contains("PC-01") && l.Contains("pending"));
    }

    [Fact]
    public async Task Scan_EveryNode_PostsNoNodeId()
    {
        _cli.Api.OnJson<IReadOnlyList<ScanJobView>>("POST", Routes.NodesScan, [], StubApi.Wire.IReadOnlyListScanJobView);

        var result = await _cli.RunAsync("devices", "scan");

        Assert.Equal(0, result.Exit);
        Assert.Equal("{}", _cli.Api.Single("POST", Routes.NodesScan).Body);
    }

    private static string[] Cells(string line) => line.Split("  ", StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
}
