using System.Globalization;
using System.Net;
using Harness.Client;
using Harness.Contracts.Dispatch;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Listener;

/// <summary>
/// Drains the <see cref="FileOutbox"/>: events in order, in batches of up to <see cref="BatchSize"/>,
/// then artifacts with bounded parallelism. A network error, 401/403 or 5xx keeps everything and
/// retries with jittered backoff; 400/413/422 dead-letters the offending item (a refused batch is
/// resent one event at a time to find it). An item is deleted only after the server accepted it.
/// </summary>
public sealed partial class OutboxSender(
    FileOutbox outbox,
    HarnessNodeClient client,
    AgentCredentials credentials,
    IOptions<AgentOptions> options,
    Backoff backoff,
    TimeProvider time,
    ILogger<OutboxSender> logger) : BackgroundService
{
    public const int BatchSize = 100;

    /// <summary>Safety net: look at the folder now and then even without a signal.</summary>
    private static readonly TimeSpan IdlePoll = TimeSpan.FromSeconds(30);

    public int ConsecutiveFailures { get; private set; }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        while (!stoppingToken.IsCancellationRequested)
        {
            TimeSpan? delay = null;
            try
            {
                await SendPendingAsync(stoppingToken);
                if (ConsecutiveFailures > 0)
                {
                    LogRecovered(logger, ConsecutiveFailures);
                }
                ConsecutiveFailures = 0;
            }
            catch (Exception e) when (!stoppingToken.IsCancellationRequested)
            {
                ConsecutiveFailures++;
                delay = backoff.Next(ConsecutiveFailures);
                if (e is AgentConfigurationException or HarnessApiException { Status: HttpStatusCode.Unauthorized or HttpStatusCode.Forbidden })
                {
                    LogRejected(logger, outbox.PendingCount, ConsecutiveFailures, delay.Value.TotalSeconds, e.Message);
                }
                else
                {
                    LogRetry(logger, outbox.PendingCount, ConsecutiveFailures, delay.Value.TotalSeconds, e.Message);
                }
            }
            try
            {
                if (delay is { } d)
                {
                    await Task.Delay(d, time, stoppingToken);
                }
                else
                {
                    await outbox.Enqueued.WaitAsync(IdlePoll, time, stoppingToken);
                }
            }
            catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
            {
                return;
            }
        }
    }

    /// <summary>
    /// Stops the loop, then makes one last attempt to deliver what is pending (the final reports of
    /// tasks the scheduler stopped just before); what fails stays on disk for the next start.
    /// </summary>
    public override async Task StopAsync(CancellationToken cancellationToken)
    {
        await base.StopAsync(cancellationToken);
        if (outbox.PendingCount == 0)
        {
            return;
        }
        using var bounded = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        bounded.CancelAfter(FinalFlushTimeout);
        try
        {
            await SendPendingAsync(bounded.Token);
            LogFlushed(logger);
        }
        catch (Exception e) when (e is not OperationCanceledException || bounded.IsCancellationRequested)
        {
            LogFlushFailed(logger, outbox.PendingCount, e.Message);
        }
    }

    /// <summary>How long a stopping agent tries to deliver its last reports.</summary>
    internal static readonly TimeSpan FinalFlushTimeout = TimeSpan.FromSeconds(5);

    /// <summary>Sends everything pending; throws on the first failure worth retrying (after dead-lettering refused items).</summary>
    public async Task SendPendingAsync(CancellationToken cancellationToken)
    {
        if (outbox.PendingCount == 0 && outbox.PeekEvents(1).Count == 0 && outbox.PeekArtifacts().Count == 0)
        {
            return;
        }
        var key = await credentials.GetKeyAsync(cancellationToken);
        await SendEventsAsync(key, cancellationToken);
    }

    /// <summary>
    /// Sends events in order, each batch only after every artifact written before it is uploaded: a task's
    /// final status never reaches the server before its screenshots, so a run that has ended has its artifacts.
    /// </summary>
    private async Task SendEventsAsync(string key, CancellationToken cancellationToken)
    {
        while (true)
        {
            var files = outbox.PeekEvents(BatchSize);
            await SendArtifactsAsync(key, cancellationToken);
            if (files.Count == 0)
            {
                return;
            }
            var batch = new List<(string Path, CallbackEvent Event)>(files.Count);
            foreach (var file in files)
            {
                if (await FileOutbox.ReadEventAsync(file, cancellationToken) is { } e)
                {
                    batch.Add((file, e));
                }
                else
                {
                    outbox.DeadLetter(file, "unreadable event file");
                }
            }
            if (batch.Count == 0)
            {
                continue;
            }
            try
            {
                await client.CallbackAsync(new CallbackBatch([.. batch.Select(b => b.Event)]), key, cancellationToken);
                batch.ForEach(b => outbox.Complete(b.Path));
                LogSent(logger, batch.Count);
            }
            catch (HarnessApiException e) when (IsRefusal(e.Status))
            {
                // One bad event must not hold back the rest: find it by sending them one at a time.
                foreach (var (path, callback) in batch)
                {
                    try
                    {
                        await client.CallbackAsync(new CallbackBatch([callback]), key, cancellationToken);
                        outbox.Complete(path);
                    }
                    catch (HarnessApiException single) when (IsRefusal(single.Status))
                    {
                        outbox.DeadLetter(path, $"event {callback.EventId} ({callback.Type}): {single.Message}");
                    }
                }
            }
        }
    }

    private async Task SendArtifactsAsync(string key, CancellationToken cancellationToken)
    {
        Exception? retry = null;
        var parallel = new ParallelOptions { MaxDegreeOfParallelism = options.Value.Devices.UploadParallelism, CancellationToken = cancellationToken };
        await Parallel.ForEachAsync(outbox.PeekArtifacts(), parallel, async (metaPath, ct) =>
        {
            try
            {
                await UploadAsync(metaPath, key, ct);
            }
            catch (Exception e) when (!ct.IsCancellationRequested)
            {
                Interlocked.CompareExchange(ref retry, e, null);
            }
        });
        if (retry is not null)
        {
            throw retry;
        }
    }

    private async Task UploadAsync(string metaPath, string key, CancellationToken cancellationToken)
    {
        var meta = await FileOutbox.ReadMetaAsync(metaPath, cancellationToken);
        if (meta is null || !File.Exists(FileOutbox.BodyPathOf(metaPath)))
        {
            outbox.DeadLetter(metaPath, "unreadable artifact metadata or missing body");
            return;
        }
        var contentType = meta.Remove(FileOutbox.MetaContentType, out var ct) ? ct : "application/octet-stream";
        var timeoutMs = meta.Remove(FileOutbox.MetaUploadTimeoutMs, out var t) && int.TryParse(t, CultureInfo.InvariantCulture, out var ms) ? ms : 30000;
        using var timeout = new CancellationTokenSource(TimeSpan.FromMilliseconds(timeoutMs), time);
        using var linked = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, timeout.Token);
        try
        {
            await using var body = File.OpenRead(FileOutbox.BodyPathOf(metaPath));
            await client.UploadArtifactAsync(body, contentType, meta, key, linked.Token);
        }
        catch (HarnessApiException e) when (IsRefusal(e.Status))
        {
            outbox.DeadLetter(metaPath, $"artifact {meta.GetValueOrDefault("event_id")}: {e.Message}");
            return;
        }
        catch (OperationCanceledException) when (timeout.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException($"artifact upload took longer than {timeoutMs} ms");
        }
        outbox.Complete(metaPath);
        LogUploaded(logger, meta.GetValueOrDefault("run_id"), meta.GetValueOrDefault("device_id"), meta.GetValueOrDefault("step_id"));
    }

    /// <summary>The server will never take this item: retrying cannot help.</summary>
    private static bool IsRefusal(HttpStatusCode status) =>
        status is HttpStatusCode.BadRequest or HttpStatusCode.RequestEntityTooLarge or HttpStatusCode.UnprocessableEntity;

    [LoggerMessage(Level = LogLevel.Debug, Message = "Outbox sent {Count} event(s)")]
    private static partial void LogSent(ILogger logger, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "[run_id={RunId} device_id={DeviceId}] Uploaded artifact of step {StepId}")]
    private static partial void LogUploaded(ILogger logger, string? runId, string? deviceId, string? stepId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Outbox delivery failed with {Pending} item(s) pending (attempt {Attempt}); retrying in {DelaySec:F1}s: {Reason}")]
    private static partial void LogRetry(ILogger logger, int pending, int attempt, double delaySec, string reason);

    [LoggerMessage(Level = LogLevel.Error, Message = "Outbox delivery refused with {Pending} item(s) pending (attempt {Attempt}); keeping them and retrying in {DelaySec:F1}s: {Reason}")]
    private static partial void LogRejected(ILogger logger, int pending, int attempt, double delaySec, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Outbox delivery works again after {Failures} failure(s)")]
    private static partial void LogRecovered(ILogger logger, int failures);

    [LoggerMessage(Level = LogLevel.Information, Message = "Stopping: the outbox is delivered")]
    private static partial void LogFlushed(ILogger logger);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Stopping: {Pending} outbox item(s) stay on disk for the next start: {Reason}")]
    private static partial void LogFlushFailed(ILogger logger, int pending, string reason);
}
