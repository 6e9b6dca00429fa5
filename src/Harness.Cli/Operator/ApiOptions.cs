using System.CommandLine;

namespace Harness.Cli.Operator;

/// <summary>The options every operator command takes: --server, --token and --json.</summary>
internal sealed class ApiOptions
{
    public Option<string?> Server { get; } = new("--server")
    {
        Description = $"Server URL (env {ServerConnection.ServerVariable}, default {ServerConnection.DefaultServer}).",
        HelpName = "url",
    };

    public Option<string?> Token { get; } = new("--token")
    {
        Description = $"Operator token (env {ServerConnection.TokenVariable}, else {ServerConnection.DevTokenFile} in the current folder).",
        HelpName = "token",
    };

    public Option<bool> Json { get; } = new("--json")
    {
        Description = "Print the server's answer as JSON instead of text.",
    };

    public static ApiOptions AddTo(Command command)
    {
        var options = new ApiOptions();
        command.Options.Add(options.Server);
        command.Options.Add(options.Token);
        command.Options.Add(options.Json);
        return options;
    }
}
