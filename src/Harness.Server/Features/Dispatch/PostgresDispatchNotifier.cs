using Harness.Server.Data;
using Microsoft.Extensions.Options;
using Npgsql;

namespace Harness.Server.Features.Dispatch;

/// <summary>
/// Carries <see cref="DispatchSignal"/> news between server replicas on one PostgreSQL: a
/// <c>NOTIFY harness_dispatch</c> per burst of local news, and a dedicated <c>LISTEN</c> connection
/// that wakes this replica's pulls when any replica (itself included) has news. So a task created on
/// one replica reaches an agent long-polling another in milliseconds, not at the next re-check.
/// </summary>
public sealed partial class PostgresDispatchNotifier(
    IOptions<HarnessServerOptions> options, DispatchSignal signal, TimeProvider time, ILogger<PostgresDispatchNotifier> logger) : BackgroundService
{
    public const string Channel = "harness_dispatch";
    private static readonly TimeSpan RetryDelay = TimeSpan.FromSeconds(2);

    protected override Task ExecuteAsync(CancellationToken stoppingToken)
    {
        ConnectionStrings.TryNormalize(DatabaseOptions.Postgres, options.Value.Database.ConnectionString, out var connectionString, out _);
        // Pooling off: the listening connection is held for the process's life, and the publisher's is short.
        var builder = new NpgsqlConnectionStringBuilder(connectionString) { Pooling = false };
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
                connection.Notification += (_, _) => signal.WakeLocal();
                await using (var listen = new NpgsqlCommand($"LISTEN {Channel}", connection))
                {
                    await listen.ExecuteNonQueryAsync(stoppingToken);
                }
                // Anything missed while not listening: let waiting pulls look once.
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
                    }
                    await using var notify = new NpgsqlCommand($"NOTIFY {Channel}", connection);
                    await notify.ExecuteNonQueryAsync(stoppingToken);
                }
                catch (Exception e) when (!stoppingToken.IsCancellationRequested)
                {
                    // Other replicas still re-check every second; drop the connection and try again next time.
                    LogPublishFailed(logger, e);
                    if (connection is not null)
                    {
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
