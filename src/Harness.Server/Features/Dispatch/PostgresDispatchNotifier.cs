using Harness.Server.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Harness.Server.Features.Dispatch;

/// <summary>
/// Carries <see cref="DispatchSignal"/> news between server replicas on one PostgreSQL: a
/// <c>NOTIFY harness_dispatch</c> per burst of local news, whose payload names the agents it is for
/// (<c>*</c>: everyone), and a dedicated <c>LISTEN</c> connection that wakes this replica's pulls when
/// another replica has news (its own notifications are skipped: they woke its pulls already). So a
/// task created on one replica reaches an agent long-polling another in milliseconds, not at the next
/// re-check, and wakes only that agent's pull. The same connection hears other replicas' agent-key
/// changes (<see cref="Security.AgentKeyChanges"/>).
/// </summary>
public sealed partial class PostgresDispatchNotifier(
    IOptions<HarnessServerOptions> options, DispatchSignal signal, Security.AgentKeyCache keys, TimeProvider time, ILogger<PostgresDispatchNotifier> logger)
    : BackgroundService
{
    public const string Channel = "harness_dispatch";
    internal const string ForAll = "*";
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    /// <summary>The backend of this replica's publishing connection, whose notifications come back to it too.</summary>
    private int _publisherPid;

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ConnectionStrings.TryNormalize(DatabaseOptions.Postgres, options.Value.Database.ConnectionString, out var connectionString, out _);
        // Pooling off: the listening connection is held for the process's life, and the publisher's is short.
        // Keepalive: a listener whose connection died silently would hear nothing and not know it.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false, KeepAlive = 15 };
        return Task.WhenAll(ListenAsync(builder.ConnectionString, stoppingToken), PublishAsync(builder.ConnectionString, stoppingToken));
    }

    private async Task ListenAsync(string connectionString, CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            try
            {
                await using var connection = new NpgsqlConnection(connectionString);
                await connection.OpenAsync(stoppingToken);
                connection.Notification += (_, e) =>
                {
                    if (e.Channel == Security.AgentKeyChanges.Channel)
                    {
                        Security.AgentKeyChanges.Apply(keys, e.Payload);
                    }
                    else if (e.PID != Volatile.Read(ref _publisherPid))
                    {
                        Wake(signal, e.Payload);
                    }
                };
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}; LISTEN {Security.AgentKeyChanges.Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                // Anything missed while not listening: let waiting pulls look once, and read keys afresh.
                keys.Listening(true);
                signal.WakeLocal();
                while (!stoppingToken.IsCancellationRequested)
                {
                    await connection.WaitAsync(stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
            catch (Exception e)
            {
                // Other replicas' key changes are not heard until listening again: remember keys only briefly.
                keys.Listening(false);
                LogListenFailed(logger, RetryDelay.TotalSeconds, e);
                await DelayAsync(stoppingToken);
            }
        }
    }

    private async Task PublishAsync(string connectionString, CancellationToken stoppingToken)
    {
        NpgsqlConnection? connection = null;
        try
        {
            while (!stoppingToken.IsCancellationRequested)
            {
                await signal.WaitForNewsAsync(stoppingToken);
                try
                {
                    if (connection is null)
                    {
                        connection = new NpgsqlConnection(connectionString);
                        await connection.OpenAsync(stoppingToken);
                        Volatile.Write(ref _publisherPid, connection.ProcessID);
                    }
                    var (forAll, agents) = signal.TakeNews();
                    if (!forAll && agents.Count == 0)
                    {
                        continue;
                    }
                    await using var notify = new NpgsqlCommand("SELECT pg_notify(@channel, @payload)", connection);
                    notify.Parameters.AddWithValue("channel", Channel);
                    notify.Parameters.AddWithValue("payload", Payload(forAll, agents));
                    await notify.ExecuteNonQueryAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // Other replicas still re-check every second; drop the connection and try again next time.
                    LogPublishFailed(logger, e);
                    if (connection is not null)
                    {
                        Volatile.Write(ref _publisherPid, 0);
                        await connection.DisposeAsync();
                        connection = null;
                    }
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
        finally
        {
            if (connection is not null)
            {
                await connection.DisposeAsync();
            }
        }
    }

    /// <summary>The notification's payload: <c>*</c> for everyone, else the agents' ids, comma-separated.</summary>
    internal static string Payload(bool forAll, IReadOnlyList<Guid> agents) =>
        forAll ? ForAll : string.Join(',', agents.Select(a => a.ToString("N")));

    /// <summary>Wakes the pulls a payload names; anything but a list of agent ids wakes every pull.</summary>
    internal static void Wake(DispatchSignal signal, string? payload)
    {
        var agents = new List<Guid>();
        foreach (var part in (payload ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            if (!Guid.TryParseExact(part, "N", out var agent))
            {
                signal.WakeLocal();
                return;
            }
            agents.Add(agent);
        }
        if (agents.Count == 0)
        {
            signal.WakeLocal();
            return;
        }
        signal.WakeLocal(agents);
    }

    private async Task DelayAsync(CancellationToken stoppingToken)
    {
        try
        {
            await Task.Delay(RetryDelay, time, stoppingToken);
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Listening for dispatch news from other replicas failed; retrying in {DelaySec}s (pulls still re-check every second)")]
    private static partial void LogListenFailed(ILogger logger, double delaySec, Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Telling other replicas about dispatch news failed; they will see it at their next re-check")]
    private static partial void LogPublishFailed(ILogger logger, Exception exception);
}
