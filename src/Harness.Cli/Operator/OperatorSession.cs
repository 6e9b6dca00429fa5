using Harness.Client;

namespace Harness.Cli.Operator;

/// <summary>One invocation of an operator command: a client for the server and where to print.</summary>
internal sealed class OperatorSession(CliContext context, ServerConnection connection, bool json, HttpClient http) : IDisposable
{
    public CliContext Context { get; } = context;
    public ServerConnection Connection { get; } = connection;
    public HarnessApiClient Api { get; } = new(http, connection.Token);
    public bool Json { get; } = json;
    public TextWriter Out => Context.Out;

    public void Dispose() => http.Dispose();
}
