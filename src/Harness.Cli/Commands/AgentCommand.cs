using System.CommandLine;
using Harness.Agent;
using Harness.Cli.Hosting;
using Microsoft.Extensions.Hosting;

namespace Harness.Cli.Commands;

internal static class AgentCommand
{
    public static Command Create()
    {
        var server = new Option<string?>("--server") { Description = "Server URL (HARNESS_SERVER_URL)." };
        var name = new Option<string?>("--name") { Description = "This agent's name, e.g. PC-01 (HARNESS_AGENT_NAME; default: the host name)." };
        var stateDir = new Option<string?>("--state-dir") { Description = "Where the agent keeps its key and state (HARNESS_AGENT_STATE_DIR; default: ./agent-state)." };
        var workspaceRuntime = new Option<string?>("--workspace-runtime")
        {
            Description = "Serve the Runtime Agent API over this workspace runtime: docker, kubernetes, fake or none (HARNESS_WORKSPACE_RUNTIME).",
        };
        var runtimeListen = new Option<string?>("--runtime-listen")
        {
            Description = "Where the Runtime Agent API listens, e.g. http://0.0.0.0:7071 (HARNESS_RUNTIME_LISTEN; default http://127.0.0.1:7071).",
        };
        var sandbox = new Option<string?>("--sandbox")
        {
            Description = "Run sandbox jobs with this backend: docker, bubblewrap, auto (Docker, else bubblewrap) or none (HARNESS_SANDBOX_BACKEND).",
        };
        var logFormat = LogFormat.CreateOption(LogFormat.Json);
        var command = new Command("agent",
            """
            Run an agent on a farm PC, Docker host or next to a cluster. It authenticates with its own key
            (HARNESS_AGENT_KEY, from POST /api/agents) or enrolls itself once with NODE_AGENT_SHARED_SECRET
            and keeps the key in its state directory, then heartbeats; while the server is unreachable it
            retries with exponential backoff and jitter.
            """);
        command.Options.Add(server);
        command.Options.Add(name);
        command.Options.Add(stateDir);
        command.Options.Add(workspaceRuntime);
        command.Options.Add(runtimeListen);
        command.Options.Add(sandbox);
        command.Options.Add(logFormat);
        command.SetAction(async (parse, cancellationToken) =>
        {
            var configuration = new Dictionary<string, string?>();
            if (parse.GetValue(server) is { } s)
            {
                configuration["Agent:ServerUrl"] = s;
            }
            if (parse.GetValue(name) is { } n)
            {
                configuration["Agent:Name"] = n;
            }
            if (parse.GetValue(stateDir) is { } d)
            {
                configuration["Agent:StateDir"] = d;
            }
            if (parse.GetValue(workspaceRuntime) is { } r)
            {
                configuration["Agent:Workspaces:Runtime"] = r;
            }
            if (parse.GetValue(runtimeListen) is { } l)
            {
                configuration["Agent:Workspaces:Listen"] = l;
            }
            if (parse.GetValue(sandbox) is { } b)
            {
                configuration["Agent:Sandbox:Backend"] = b;
            }
            using var host = HarnessAgentHost.Build(new AgentHostSettings
            {
                Configuration = configuration,
                ConfigureLogging = LogFormat.Configure(parse.GetValue(logFormat)!),
            });
            await host.RunAsync();
            return 0;
        });
        return command;
    }
}
