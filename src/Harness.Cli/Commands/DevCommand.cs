using System.CommandLine;
using System.Security.Cryptography;
using Harness.Agent;
using Harness.Agent.Sandbox;
using Harness.Agent.Listener;
using Harness.Agent.Workspaces;
using Harness.Cli.Hosting;
using Harness.DeviceSim;
using Harness.DeviceSim.Faults;
using Harness.Runtimes.Devices.Simulator;
using Harness.Server;
using Harness.Server.Security;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Hosting;

namespace Harness.Cli.Commands;

/// <summary>
/// The embedded default: server on SQLite in a local folder plus an in-process agent that enrolls
/// itself and heartbeats. Ctrl-C stops the agent first, then the server.
/// </summary>
internal static class DevCommand
{
    public const string DefaultUrl = "http://127.0.0.1:5080";
    private const string AdminTokenFile = "admin-token";

    public static Command Create()
    {
        var dataDir = new Option<string>("--data-dir")
        {
            Description = "Folder for the SQLite database, the agent's key and artifacts (HARNESS_DATA_DIR).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HARNESS_DATA_DIR") ?? Path.Combine(".harness", "dev"),
        };
        var urls = new Option<string?>("--urls")
        {
            Description = $"Listen URL (default: ASPNETCORE_URLS, else {DefaultUrl}).",
        };
        var agentName = new Option<string>("--agent-name")
        {
            Description = "Name of the in-process agent.",
            DefaultValueFactory = _ => "PC-01",
        };
        var devices = new Option<int>("--devices")
        {
            Description = "Simulated devices the in-process farm serves (HARNESS_DEV_DEVICES; 0: none).",
            DefaultValueFactory = _ => int.TryParse(Environment.GetEnvironmentVariable("HARNESS_DEV_DEVICES"), out var n) ? n : DefaultDevices,
        };
        var workspaceRuntime = new Option<string>("--workspace-runtime")
        {
            Description = "Runtime of the in-process agent's workspaces: fake (volumes as folders, instances as local web servers), docker, or none (HARNESS_WORKSPACE_RUNTIME).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HARNESS_WORKSPACE_RUNTIME") ?? "fake",
        };
        var sandbox = new Option<string>("--sandbox")
        {
            Description = "Backend of the in-process agent's sandbox jobs: auto (Docker when its engine answers, else bubblewrap), docker, bubblewrap or none (HARNESS_SANDBOX_BACKEND).",
            DefaultValueFactory = _ => Environment.GetEnvironmentVariable("HARNESS_SANDBOX_BACKEND") ?? "auto",
        };
        var offline = DeviceSimCommand.DeviceSet("--offline", "Simulated devices listed offline (runs skip them), e.g. to try the console's SKIPPED badge.");
        var failing = DeviceSimCommand.DeviceSet("--failing", "Simulated devices whose commands answer with an error.");
        var logFormat = LogFormat.CreateOption(LogFormat.Text);
        var command = new Command("dev",
            """
            Run everything in one process: the server on SQLite in a local data folder, a simulated device
            farm (the vendor WebSocket protocol, HARNESS_DEV_DEVICES devices) and an agent that enrolls
            itself and drives the farm. Prints the URL and the admin token. Honours ASPNETCORE_URLS and
            HARNESS_ADMIN_TOKEN. Ctrl-C stops it cleanly. For development and trials, not production.
            """);
        command.Options.Add(dataDir);
        command.Options.Add(urls);
        command.Options.Add(agentName);
        command.Options.Add(devices);
        command.Options.Add(workspaceRuntime);
        command.Options.Add(sandbox);
        command.Options.Add(offline);
        command.Options.Add(failing);
        command.Options.Add(logFormat);
        command.SetAction((parse, cancellationToken) =>
        {
            var count = parse.GetValue(devices);
            if (count is < 0 or > 9999)
            {
                Console.Error.WriteLine($"--devices: {count} must be between 0 and 9999 (HARNESS_DEV_DEVICES).");
                return Task.FromResult(2);
            }
            string? Set(Option<string?> option) => parse.GetResult(option) is null ? null : parse.GetValue(option) ?? "1";
            var faults = new FaultPlan { Offline = Set(offline), Failing = Set(failing) }.Resolve(count, out var faultErrors);
            if (faultErrors.Count > 0)
            {
                foreach (var error in faultErrors)
                {
                    Console.Error.WriteLine(error);
                }
                return Task.FromResult(2);
            }
            return RunAsync(
                Path.GetFullPath(parse.GetValue(dataDir)!),
                parse.GetValue(urls) ?? Environment.GetEnvironmentVariable("ASPNETCORE_URLS") ?? DefaultUrl,
                parse.GetValue(agentName)!,
                count,
                faults,
                parse.GetValue(workspaceRuntime)!.Trim().ToLowerInvariant(),
                parse.GetValue(sandbox)!.Trim().ToLowerInvariant(),
                LogFormat.Configure(parse.GetValue(logFormat)!),
                cancellationToken);
        });
        return command;
    }

    public const int DefaultDevices = 20;

    private static async Task<int> RunAsync(
        string dataDir, string urls, string agentName, int deviceCount, IReadOnlyDictionary<string, DeviceFaults> faults, string workspaceRuntime, string sandboxBackend, Action<ILoggingBuilder> logging, CancellationToken cancellationToken)
    {
        Directory.CreateDirectory(dataDir);
        using var shutdown = new ShutdownSignal();
        // The in-process agent enrolls with a secret that lives only as long as this process.
        var enrollmentSecret = Environment.GetEnvironmentVariable("NODE_AGENT_SHARED_SECRET")
            ?? Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(32));

        var server = HarnessServerHost.Build(new ServerHostSettings
        {
            Urls = urls,
            Configuration =
            {
                ["Harness:Database:Provider"] = "sqlite",
                ["Harness:Database:ConnectionString"] = $"Data Source={Path.Combine(dataDir, "harness.db")}",
                ["Harness:EnrollmentSecret"] = enrollmentSecret,
                ["Harness:Artifacts:Root"] = Path.Combine(dataDir, "artifacts"),
            },
            ConfigureLogging = logging,
            ConfigureServices = services => services.Replace(ServiceDescriptor.Singleton<IHostLifetime, PassiveLifetime>()),
        });
        await using var serverScope = server;
        var adminToken = await AdminTokenAsync(server, dataDir, cancellationToken);
        await server.StartAsync(cancellationToken);
        var url = ServerAddresses.LocalUrl(server);

        // The simulated farm speaks the vendor WebSocket protocol on a free port, so the agent drives it
        // exactly as it drives a real farm PC's vendor service.
        using var simLogging = LoggerFactory.Create(logging);
        await using var farm = deviceCount == 0 ? null : new DeviceSimServer(
            new SimulatedFarm(FarmOptions(deviceCount, faults)),
            new DeviceSimServerOptions { WsUrl = "ws://127.0.0.1:0" }, simLogging);
        if (farm is not null)
        {
            await farm.StartAsync(cancellationToken);
        }

        using var agent = HarnessAgentHost.Build(new AgentHostSettings
        {
            Configuration =
            {
                ["Agent:ServerUrl"] = url,
                ["Agent:Name"] = agentName,
                ["Agent:StateDir"] = Path.Combine(dataDir, "agent"),
                ["Agent:EnrollmentSecret"] = enrollmentSecret,
                ["Agent:HeartbeatIntervalSec"] = "5",
                ["Agent:Devices:Adapter"] = farm is null ? "none" : "vendor-ws",
                ["Agent:Devices:VendorUrl"] = farm?.WsUrl.ToString() ?? "",
                ["Agent:Workspaces:Runtime"] = workspaceRuntime,
                ["Agent:Workspaces:Listen"] = "http://127.0.0.1:0",
                ["Agent:Workspaces:Fake:Root"] = Path.Combine(dataDir, "workspaces"),
                ["Agent:Sandbox:Backend"] = sandboxBackend,
                ["Agent:Sandbox:WorkDirectory"] = Path.Combine(dataDir, "sandbox"),
            },
            ConfigureLogging = logging,
            ConfigureServices = services => services.Replace(ServiceDescriptor.Singleton<IHostLifetime, PassiveLifetime>()),
        });
        await agent.StartAsync(cancellationToken);

        var runtimeApi = agent.Services.GetRequiredService<RuntimeApiState>().Endpoint;

        var sandbox = agent.Services.GetService<SandboxJobLoop>()?.Backend?.Name;
        PrintBanner(url, adminToken, dataDir, agentName, sandbox,
            farm is null ? "none (--devices 0)" : $"{deviceCount} simulated (vendor WebSocket {farm.WsUrl}){FaultSummary(faults)}",
            runtimeApi is null ? "none (--workspace-runtime none)" : $"{workspaceRuntime} runtime (Runtime Agent API {runtimeApi.AbsoluteUri.TrimEnd('/')})");
        await WaitForAgentAsync(agent, TimeSpan.FromSeconds(10));

        var signal = await shutdown.Signalled;
        Console.WriteLine($"{signal} received: stopping the agent, then the server…");
        using var grace = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        await agent.StopAsync(grace.Token);
        await server.StopAsync(grace.Token);
        Console.WriteLine("Harness dev stopped.");
        return 0;
    }

    /// <summary>
    /// Dev mode keeps its generated admin token in the data folder (mode 0600) so every start can
    /// print it; a production server prints it once and keeps only the hash.
    /// </summary>
    private static async Task<string> AdminTokenAsync(WebApplication server, string dataDir, CancellationToken cancellationToken)
    {
        var path = Path.Combine(dataDir, AdminTokenFile);
        var generated = await HarnessServerHost.PrepareAsync(server, cancellationToken);
        if (Environment.GetEnvironmentVariable("HARNESS_ADMIN_TOKEN") is { Length: > 0 })
        {
            return "(the value of HARNESS_ADMIN_TOKEN)";
        }
        if (generated is null && File.Exists(path))
        {
            return (await File.ReadAllTextAsync(path, cancellationToken)).Trim();
        }
        generated ??= await server.Services.GetRequiredService<AdminTokenBootstrap>().IssueAsync("dev", cancellationToken);
        await File.WriteAllTextAsync(path, generated, cancellationToken);
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(path, UnixFileMode.UserRead | UnixFileMode.UserWrite);
        }
        return generated;
    }

    private static string FaultSummary(IReadOnlyDictionary<string, DeviceFaults> faults)
    {
        var offline = faults.Count(f => f.Value.Offline);
        var failing = faults.Count(f => f.Value.Failing);
        return offline + failing == 0 ? "" : $", {offline} offline, {failing} failing";
    }

    private static SimulatedFarmOptions FarmOptions(int deviceCount, IReadOnlyDictionary<string, DeviceFaults> faults)
    {
        var options = new SimulatedFarmOptions { Devices = deviceCount };
        foreach (var (serial, fault) in faults)
        {
            options.Faults[serial] = fault;
        }
        return options;
    }

    private static async Task WaitForAgentAsync(IHost agent, TimeSpan timeout)
    {
        var status = agent.Services.GetRequiredService<AgentStatus>();
        var deadline = DateTime.UtcNow + timeout;
        while (status.LastHeartbeatAt is null && DateTime.UtcNow < deadline)
        {
            await Task.Delay(100);
        }
        Console.WriteLine(status.LastHeartbeatAt is null
            ? "  The in-process agent has not reached the server yet; see the log lines above."
            : "  Agent online. Press Ctrl-C to stop.");
    }

    private static void PrintBanner(string url, string adminToken, string dataDir, string agentName, string? sandbox, string devices, string workspaces)
    {
        Console.WriteLine();
        Console.WriteLine("  Harness dev is running.");
        Console.WriteLine();
        Console.WriteLine($"    Console / API   {url}");
        Console.WriteLine($"    API reference   {url}/docs/api");
        Console.WriteLine($"    Admin token     {adminToken}");
        Console.WriteLine($"    Agent           {agentName} (in-process)");
        Console.WriteLine($"    Devices         {devices}");
        Console.WriteLine($"    Workspaces      {workspaces}");
        Console.WriteLine($"    Sandbox jobs    {(sandbox is null ? "none (--sandbox none, or no Docker engine or bubblewrap here: see the log above)" : $"{sandbox} backend")}");
        Console.WriteLine($"    Data            {dataDir}");
        Console.WriteLine();
        Console.WriteLine("    Try, in another terminal in this folder:");
        Console.WriteLine("      ./harness devices list");
        Console.WriteLine("      ./harness workflows push examples/workflows/login-and-capture.json");
        Console.WriteLine("      ./harness runs create --workflow login-and-capture --var user=alice --follow");
        if (sandbox == "bubblewrap")
        {
            Console.WriteLine("      ./harness jobs run --image host -- sh -c 'id; echo hello from the sandbox'");
        }
        else if (sandbox is not null)
        {
            Console.WriteLine("      ./harness jobs run --image IMAGE -- sh -c 'id; echo hello from the sandbox'");
        }
        Console.WriteLine();
    }
}
