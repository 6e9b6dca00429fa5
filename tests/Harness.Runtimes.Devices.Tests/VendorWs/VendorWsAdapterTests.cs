using System.Net.WebSockets;
using System.Text;
using System.Text.Json;
using Harness.DeviceSim;
using Harness.Runtimes.Devices.Simulator;
using Harness.Runtimes.Devices.VendorWs;
using Microsoft.Extensions.Logging.Abstractions;

namespace Harness.Runtimes.Devices.Tests.VendorWs;

/// <summary>What only the WebSocket adapter does: multiplexing, cancel, reconnect, and the server's bad_request.</summary>
public sealed class VendorWsAdapterTests : IAsyncLifetime
{
    private readonly SimulatedFarm _farm = new(new SimulatedFarmOptions { Devices = 4 });
    private DeviceSimServer _server = null!;

    public async Task InitializeAsync()
    {
        _server = new DeviceSimServer(_farm, new DeviceSimServerOptions { WsUrl = "ws://127.0.0.1:0" });
        await _server.StartAsync(default);
    }

    public async Task DisposeAsync() => await _server.DisposeAsync();

    private VendorWsAdapter Adapter(Uri? url = null) =>
        new(url ?? _server.WsUrl, TimeSpan.FromSeconds(5), NullLogger<VendorWsAdapter>.Instance, TimeProvider.System) { ReconnectDelay = TimeSpan.FromMilliseconds(50) };

    [Fact]
    public async Task Replies_ComeBackOutOfOrder_OverOneConnection()
    {
        _farm.SetFaults("SIM-0001", new DeviceFaults { Latency = TimeSpan.FromMilliseconds(800) });
        await using var adapter = Adapter();
        await adapter.PingAsync("SIM-0002", default); // connect first

        var slow = adapter.PingAsync("SIM-0001", default);
        await adapter.PingAsync("SIM-0002", default);

        Assert.False(slow.IsCompleted);
        await slow;
    }

    [Fact]
    public async Task CancelledCall_TellsTheServer_SoTheDeviceStopsWorkingOnIt()
    {
        _farm.SetFaults("SIM-0003", new DeviceFaults { Unresponsive = true });
        await using var adapter = Adapter();
        using var cancel = new CancellationTokenSource(TimeSpan.FromMilliseconds(200));

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => adapter.PingAsync("SIM-0003", cancel.Token));

        await Eventually(() => _farm.InFlightCommands("SIM-0003") == 0);
        Assert.Equal("cancelled", _farm.CommandLog.Single(e => e.Serial == "SIM-0003").Outcome);
    }

    [Fact]
    public async Task ServerRestart_AdapterReconnects()
    {
        var url = _server.WsUrl;
        await using var adapter = Adapter();
        await adapter.PingAsync("SIM-0001", default);

        await _server.DisposeAsync();
        var down = await Assert.ThrowsAsync<DeviceException>(() => adapter.PingAsync("SIM-0001", default));
        Assert.Equal(DeviceErrorKind.BackendDown, down.Kind);
        Assert.False(await adapter.CheckConnectionAsync(default));

        _server = new DeviceSimServer(_farm, new DeviceSimServerOptions { WsUrl = url.ToString() });
        await _server.StartAsync(default);

        await Eventually(async () => await adapter.CheckConnectionAsync(default));
        await adapter.PingAsync("SIM-0001", default);
    }

    [Fact]
    public async Task CrashingDevice_IsUnavailableWhileDown_ThenAnswersAgain()
    {
        _farm.SetFaults("SIM-0002", new DeviceFaults { CrashAfterCommands = 1, CrashDowntime = TimeSpan.FromMilliseconds(300) });
        await using var adapter = Adapter();

        await adapter.TapAsync("SIM-0002", 1, 1, default);
        var down = await Assert.ThrowsAsync<DeviceException>(() => adapter.TapAsync("SIM-0002", 1, 1, default));
        Assert.Equal(DeviceErrorKind.Unavailable, down.Kind);

        await Eventually(async () => (await adapter.ListAsync(default))[1].State == Contracts.Nodes.DeviceState.Ready);
        await adapter.TapAsync("SIM-0002", 1, 1, default);
    }

    [Fact]
    public async Task EmulatorStart_StoppedEmulator_BringsItBack()
    {
        var farm = new SimulatedFarm(new SimulatedFarmOptions { Devices = 5 });
        farm.SetFaults("SIM-0005", new DeviceFaults { Offline = true });
        await using var server = new DeviceSimServer(farm, new DeviceSimServerOptions { WsUrl = "ws://127.0.0.1:0" });
        await server.StartAsync(default);
        await using var adapter = Adapter(server.WsUrl);

        await adapter.EmulatorStartAsync("SIM-0005", default);

        await adapter.PingAsync("SIM-0005", default);
    }

    [Fact]
    public async Task Server_AnswersBadRequest_ForUnknownCommandsAndNonJson()
    {
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(_server.WsUrl, default);

        var unknown = await RoundTripAsync(socket, """{"id":5,"cmd":"dance","serial":"SIM-0001"}""");
        var garbage = await RoundTripAsync(socket, "not json");
        var missing = await RoundTripAsync(socket, """{"id":6,"cmd":"tap","serial":"SIM-0001","args":{"x":1}}""");

        Assert.Equal((5, false, "bad_request"), Read(unknown));
        Assert.Equal(JsonValueKind.Null, garbage.GetProperty("id").ValueKind);
        Assert.Equal("bad_request", garbage.GetProperty("error").GetProperty("code").GetString());
        Assert.Equal((6, false, "bad_request"), Read(missing));
        Assert.Contains("args.y", missing.GetProperty("error").GetProperty("message").GetString(), StringComparison.Ordinal);
    }

    [Fact]
    public async Task Server_ListsDevicesInTheDocumentedShape()
    {
        _farm.SetFaults("SIM-0002", new DeviceFaults { Offline = true });
        using var socket = new ClientWebSocket();
        await socket.ConnectAsync(_server.WsUrl, default);

        var reply = await RoundTripAsync(socket, """{"id":1,"cmd":"list"}""");

        var devices = reply.GetProperty("result").GetProperty("devices");
        Assert.Equal(4, devices.GetArrayLength());
        Assert.Equal("SIM-0002", devices[1].GetProperty("serial").GetString());
        Assert.Equal("offline", devices[1].GetProperty("state").GetString());
        Assert.Equal("ready", devices[0].GetProperty("state").GetString());
        Assert.False(devices[0].GetProperty("emulator").GetBoolean());
    }

    private static (long, bool, string?) Read(JsonElement reply) =>
        (reply.GetProperty("id").GetInt64(), reply.GetProperty("ok").GetBoolean(), reply.GetProperty("error").GetProperty("code").GetString());

    private static async Task<JsonElement> RoundTripAsync(ClientWebSocket socket, string request)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(5));
        await socket.SendAsync(Encoding.UTF8.GetBytes(request), WebSocketMessageType.Text, true, timeout.Token);
        var buffer = new byte[64 * 1024];
        var result = await socket.ReceiveAsync(buffer, timeout.Token);
        Assert.True(result.EndOfMessage);
        return JsonDocument.Parse(buffer.AsMemory(0, result.Count)).RootElement.Clone();
    }

    private static async Task Eventually(Func<bool> condition) => await Eventually(() => Task.FromResult(condition()));

    private static async Task Eventually(Func<Task<bool>> condition)
    {
        var deadline = DateTime.UtcNow.AddSeconds(5);
        while (!await condition())
        {
            Assert.True(DateTime.UtcNow < deadline, "condition not met within 5 s");
            await Task.Delay(25);
        }
    }
}
