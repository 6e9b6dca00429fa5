using System.CommandLine;
using Harness.Cli.Hosting;
using Harness.DeviceSim;
using Harness.DeviceSim.Faults;
using Harness.Runtimes.Devices.Simulator;

namespace Harness.Cli.Commands;

/// <summary>
/// A simulated device farm on the vendor WebSocket protocol (and optionally the adb server
/// protocol), so an agent, the adapters or a demo can run with no phones at hand.
/// </summary>
internal static class DeviceSimCommand
{
    public static Command Create()
    {
        var devices = new Option<int>("--devices") { Description = "How many devices: SIM-0001 … SIM-NNNN.", DefaultValueFactory = _ => 20 };
        var url = new Option<string>("--url") { Description = "Where the vendor WebSocket listens (port 0: any free port).", DefaultValueFactory = _ => "ws://127.0.0.1:22222" };
        var adbPort = new Option<int?>("--adb-port") { Description = "Also speak the adb server protocol on this loopback port (0: any free port; default: off)." };
        var prefix = new Option<string>("--prefix") { Description = "Serial prefix: PREFIX-0001 … (give each simulated farm of a fleet its own).", DefaultValueFactory = _ => SimulatedFarmOptions.DefaultPrefix };
        var seed = new Option<int>("--seed") { Description = "Same seed, same farm (models, screen colours).", DefaultValueFactory = _ => 1 };
        var offline = DeviceSet("--offline", "Devices listed offline; their commands fail as unavailable.");
        var unresponsive = DeviceSet("--unresponsive", "Devices listed ready whose commands never answer.");
        var failing = DeviceSet("--failing", "Devices whose commands answer with an error.");
        var crashing = DeviceSet("--crashing", "Devices that go offline after --crash-after commands, for --crash-for.");
        var slow = new Option<string?>("--slow") { Description = "Delay every command: LATENCY[@SET], e.g. 200ms (all devices) or 1s@first:3." };
        var crashAfter = new Option<int>("--crash-after") { Description = "Commands before a crashing device goes offline.", DefaultValueFactory = _ => 5 };
        var crashFor = new Option<string>("--crash-for") { Description = "How long a crashed device stays offline (e.g. 10s).", DefaultValueFactory = _ => "10s" };
        var bootTime = new Option<string>("--boot-time") { Description = "How long a reboot or an emulator start keeps a device booting.", DefaultValueFactory = _ => "0s" };

        var command = new Command("devicesim",
            """
            Run a simulated Android device farm: the vendor WebSocket protocol (docs/devices.md) on --url and,
            with --adb-port, the adb server protocol (`adb -P PORT devices` works). Screenshots are real PNGs.
            A device SET is N (N devices from the end, each fault taking different ones), last:N, first:N,
            all, or serials like SIM-0001,SIM-0002; a fault option with no SET takes one device.
            Ctrl-C stops it.
            """);
        foreach (var option in new Option[] { devices, url, adbPort, prefix, seed, offline, unresponsive, failing, crashing, slow, crashAfter, crashFor, bootTime })
        {
            command.Options.Add(option);
        }
        command.SetAction(async (parse, cancellationToken) =>
        {
            string? Set(Option<string?> option) => parse.GetResult(option) is null ? null : parse.GetValue(option) ?? "1";
            var errors = new List<string>();
            if (!Durations.TryParse(parse.GetValue(crashFor), out var downtime))
            {
                errors.Add($"--crash-for: '{parse.GetValue(crashFor)}' is not a duration (like 10s).");
            }
            if (!Durations.TryParse(parse.GetValue(bootTime), out var boot))
            {
                errors.Add($"--boot-time: '{parse.GetValue(bootTime)}' is not a duration (like 5s).");
            }
            var count = parse.GetValue(devices);
            var serialPrefix = parse.GetValue(prefix)!;
            if (!System.Text.RegularExpressions.Regex.IsMatch(serialPrefix, "^[A-Za-z0-9]{1,16}$"))
            {
                errors.Add($"--prefix: '{serialPrefix}' must be 1 to 16 letters or digits.");
            }
            if (count is < 1 or > 9999)
            {
                errors.Add($"--devices: {count} must be between 1 and 9999.");
            }
            var plan = new FaultPlan
            {
                Offline = Set(offline),
                Unresponsive = Set(unresponsive),
                Failing = Set(failing),
                Crashing = Set(crashing),
                Slow = parse.GetValue(slow),
                CrashAfter = parse.GetValue(crashAfter),
                CrashDowntime = downtime,
            };
            var faults = plan.Resolve(Math.Clamp(count, 0, 9999), out var planErrors, serialPrefix);
            errors.AddRange(planErrors);
            if (errors.Count > 0)
            {
                foreach (var error in errors)
                {
                    Console.Error.WriteLine(error);
                }
                return 2;
            }
            return await RunAsync(count, serialPrefix, parse.GetValue(seed), boot, faults, parse.GetValue(url)!, parse.GetValue(adbPort), cancellationToken);
        });
        return command;
    }

    internal static Option<string?> DeviceSet(string name, string description) =>
        new(name) { Description = description + " Value: a device SET (default 1).", Arity = ArgumentArity.ZeroOrOne };

    private static async Task<int> RunAsync(int count, string serialPrefix, int seed, TimeSpan bootTime, IReadOnlyDictionary<string, DeviceFaults> faults, string url, int? adbPort, CancellationToken cancellationToken)
    {
        using var shutdown = new ShutdownSignal();
        var options = new SimulatedFarmOptions { Devices = count, SerialPrefix = serialPrefix, Seed = seed, BootTime = bootTime };
        foreach (var (serial, fault) in faults)
        {
            options.Faults[serial] = fault;
        }
        var farm = new SimulatedFarm(options);
        using var logging = LoggerFactory.Create(LogFormat.Configure(LogFormat.Text));
        await using var server = new DeviceSimServer(farm, new DeviceSimServerOptions { WsUrl = url, AdbPort = adbPort }, logging);
        try
        {
            await server.StartAsync(cancellationToken);
        }
        catch (Exception ex) when (ex is ArgumentException or IOException or System.Net.Sockets.SocketException)
        {
            Console.Error.WriteLine($"devicesim: cannot listen: {ex.Message}");
            return 2;
        }

        var devices = farm.List();
        Console.WriteLine($"harness devicesim: {count} simulated devices ({devices[0].Handle} … {devices[^1].Handle}, {devices.Count(d => d.IsEmulator)} emulator(s), seed {seed})");
        Console.WriteLine($"  vendor WebSocket:  {server.WsUrl}");
        if (server.AdbPort is { } port)
        {
            Console.WriteLine($"  adb server:        127.0.0.1:{port}   (adb -P {port} devices)");
        }
        foreach (var (serial, fault) in faults.OrderBy(f => f.Key, StringComparer.Ordinal))
        {
            Console.WriteLine($"  {serial}: {Describe(fault)}");
        }
        Console.WriteLine("Ctrl-C stops it.");

        var signal = await shutdown.Signalled;
        Console.WriteLine($"{signal} received: stopping the device simulator…");
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        await server.StopAsync(grace.Token);
        Console.WriteLine("devicesim stopped.");
        return 0;
    }

    private static string Describe(DeviceFaults fault)
    {
        var parts = new List<string>();
        if (fault.Offline)
        {
            parts.Add("offline");
        }
        if (fault.Unresponsive)
        {
            parts.Add("unresponsive");
        }
        if (fault.Failing)
        {
            parts.Add("failing");
        }
        if (fault.CrashAfterCommands is { } after)
        {
            parts.Add($"crashes after {after} commands for {fault.CrashDowntime.TotalSeconds:0.#}s");
        }
        if (fault.Latency > TimeSpan.Zero)
        {
            parts.Add($"slow ({fault.Latency.TotalMilliseconds:0} ms)");
        }
        return string.Join(", ", parts);
    }
}
