using Harness.Contracts.Nodes;
using Harness.Runtimes.Devices.VendorWs;
using Harness.Testing;
using Microsoft.Extensions.Logging.Abstractions;

namespace Harness.Cli.Tests.Commands;

public sealed class DeviceSimCommandTests
{
    [Fact]
    public async Task Help_DescribesTheFarmAndFaultOptions()
    {
        await using var harness = HarnessProcess.Start(["devicesim", "--help"]);

        Assert.Equal(0, await harness.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        foreach (var option in new[] { "--devices", "--url", "--adb-port", "--seed", "--offline", "--unresponsive", "--slow", "--failing", "--crashing" })
        {
            Assert.Contains(option, harness.Output, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task DeviceSim_ServesTheVendorProtocol_AndExits0OnSigterm()
    {
        await using var harness = HarnessProcess.Start(["devicesim", "--devices", "3", "--url", "ws://127.0.0.1:0", "--offline", "1"]);
        var line = await harness.WaitForLineAsync(l => l.Contains("vendor WebSocket:", StringComparison.Ordinal), TimeSpan.FromSeconds(30));
        var url = new Uri(line[(line.IndexOf("ws://", StringComparison.Ordinal))..].Trim());

        await using (var adapter = new VendorWsAdapter(url, TimeSpan.FromSeconds(5), NullLogger<VendorWsAdapter>.Instance, TimeProvider.System))
        {
            var devices = await adapter.ListAsync(default);
            Assert.Equal(["SIM-0001", "SIM-0002", "SIM-0003"], devices.Select(d => d.Handle));
            Assert.Equal(DeviceState.Offline, devices[2].State);
            Assert.Equal("hi", (await adapter.ShellAsync("SIM-0001", "echo hi", default)).Trim());
        }

        harness.Signal(HarnessProcess.SigTerm);
        Assert.Equal(0, await harness.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains("devicesim stopped.", harness.Output, StringComparison.Ordinal);
    }

    [Fact]
    public async Task DeviceSim_WithBadFaultOptions_ListsEveryErrorAndExits2()
    {
        await using var harness = HarnessProcess.Start(["devicesim", "--devices", "3", "--url", "ws://127.0.0.1:0", "--offline", "SIM-0042", "--slow", "soon"]);

        Assert.Equal(2, await harness.WaitForExitAsync(TimeSpan.FromSeconds(30)));
        Assert.Contains(harness.Lines, l => l.StartsWith("--offline:", StringComparison.Ordinal));
        Assert.Contains(harness.Lines, l => l.StartsWith("--slow:", StringComparison.Ordinal));
    }
}
