using System.CommandLine;
using System.Net;
using System.Text.Json;
using Harness.Client;

namespace Harness.Cli.Operator;

/// <summary>
/// Runs an operator command against the server and turns what can go wrong into a message that
/// says what to do, never a stack trace: exit 1 for a refused request, a bad argument or an
/// unreachable server.
/// </summary>
internal static class OperatorAction
{
    public const int Failed = 1;

    public static void Set(Command command, CliContext context, ApiOptions options, Func<OperatorSession, ParseResult, CancellationToken, Task<int>> action) =>
        command.SetAction((parse, cancellationToken) => RunAsync(context, options, parse, action, cancellationToken));

    private static async Task<int> RunAsync(
        CliContext context, ApiOptions options, ParseResult parse,
        Func<OperatorSession, ParseResult, CancellationToken, Task<int>> action, CancellationToken cancellationToken)
    {
        ServerConnection? connection = null;
        try
        {
            connection = ServerConnection.Resolve(parse.GetValue(options.Server), parse.GetValue(options.Token), context.GetEnvironmentVariable, context.CurrentDirectory);
            var http = new HttpClient(context.CreateHandler()) { BaseAddress = connection.Server, Timeout = TimeSpan.FromSeconds(100) };
            using var session = new OperatorSession(context, connection, parse.GetValue(options.Json), http);
            return await action(session, parse, cancellationToken);
        }
        catch (CliException e)
        {
            await context.Error.WriteLineAsync($"harness: {e.Message}");
            return Failed;
        }
        catch (HarnessApiException e)
        {
            await WriteApiErrorAsync(context.Error, e, connection);
            return Failed;
        }
        catch (HttpRequestException e) when (!cancellationToken.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync(
                $"harness: cannot reach the server at {connection?.Server}: {e.Message}{Environment.NewLine}" +
                $"  Is it running (`./harness dev`)? Point elsewhere with --server or {ServerConnection.ServerVariable}.");
            return Failed;
        }
        catch (JsonException e)
        {
            await context.Error.WriteLineAsync(
                $"harness: the server at {connection?.Server} answered with JSON this CLI does not understand ({e.Message}). Are both the same Harness version?");
            return Failed;
        }
        catch (TaskCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            await context.Error.WriteLineAsync($"harness: the server at {connection?.Server} did not answer in time.");
            return Failed;
        }
    }

    private static async Task WriteApiErrorAsync(TextWriter error, HarnessApiException e, ServerConnection? connection)
    {
        await error.WriteLineAsync($"harness: {(int)e.Status} {e.Title ?? e.Status.ToString()}");
        if (e.Errors.Count > 0)
        {
            foreach (var line in e.Errors)
            {
                await error.WriteLineAsync($"  {line}");
            }
        }
        else if (e.Detail is not null)
        {
            await error.WriteLineAsync($"  {e.Detail}");
        }
        if (e.Status == HttpStatusCode.NotFound && e.Detail is null && e.Request is not null)
        {
            await error.WriteLineAsync($"  {e.Request}: the server at {connection?.Server} has no such route; it may be older than this CLI.");
        }
        if (e.Status == HttpStatusCode.Unauthorized)
        {
            await error.WriteLineAsync(connection?.Token is null
                ? $"  No token was sent: pass --token, set {ServerConnection.TokenVariable}, or run from the folder where `./harness dev` wrote {ServerConnection.DevTokenFile}."
                : $"  The token from {connection.TokenSource} was refused.");
        }
    }
}
