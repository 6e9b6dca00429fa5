using System.Threading.Channels;
using Harness.Contracts.Dispatch;
using Harness.Server.Data;
using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Callbacks;

/// <summary>
/// A group commit for callbacks. The callbacks that arrive while a writer is busy wait for it, and the next
/// group takes all of them (up to <see cref="MaxMembers"/> callbacks or <see cref="MaxEvents"/> events) into
/// one transaction (<see cref="CallbackHandler.ApplyGroupAsync"/>): one batch locks their device states, one
/// statement records their events, one save and one commit serve them all, and each request is answered once
/// its group has committed. Under load a commit and its round trips serve many tasks; a lone callback is a
/// group of one. <c>Harness:Dispatch:CallbackWriters</c> writers apply groups side by side (PostgreSQL;
/// SQLite has one writer anyway); 0 turns grouping off. A group that fails changes nothing, and each of its
/// callbacks is then applied on its own (<see cref="ConflictRetry"/> included), so one bad callback never
/// fails the others. Callbacks with a scan's result are always applied on their own.
/// </summary>
public sealed partial class CallbackGroups(
    IServiceScopeFactory scopes, IOptions<HarnessServerOptions> options, Metrics.HarnessMetrics metrics, ILogger<CallbackGroups> logger)
    : BackgroundService
{
    public const int MaxMembers = 64;
    public const int MaxEvents = 2_000;

    private readonly Channel<Member> _queue = Channel.CreateUnbounded<Member>();
    private volatile bool _open;

    /// <summary>Whether a callback of these events may share a group: device states and steps only.</summary>
    public static bool Groupable(IReadOnlyList<CallbackEvent> events) =>
        events.All(e => e.Type is CallbackTypes.DeviceStatus or CallbackTypes.Step);

    /// <summary>
    /// Queues the callback for the next group and returns its answer once the group has committed, or null
    /// when it was not applied (grouping is off, the server is stopping, or the group failed): the caller then
    /// applies it on its own.
    /// </summary>
    public Task<IResult?> SendAsync(Guid agentId, IReadOnlyList<CallbackEvent> events)
    {
        if (!_open)
        {
            return Task.FromResult<IResult?>(null);
        }
        var member = new Member(agentId, events, new TaskCompletionSource<IResult?>(TaskCreationOptions.RunContinuationsAsynchronously));
        return _queue.Writer.TryWrite(member) ? member.Answer.Task : Task.FromResult<IResult?>(null);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var database = options.Value.Database;
        var writers = database.Provider == DatabaseOptions.Postgres ? options.Value.Dispatch.CallbackWriters : Math.Min(1, options.Value.Dispatch.CallbackWriters);
        if (writers == 0)
        {
            return;
        }
        _open = true;
        try
        {
            await Task.WhenAll(Enumerable.Range(0, writers).Select(_ => Task.Run(() => WriteAsync(stoppingToken), CancellationToken.None)));
        }
        finally
        {
            _open = false;
            _queue.Writer.TryComplete();
            while (_queue.Reader.TryRead(out var left))
            {
                left.Answer.TrySetResult(null);
            }
        }
    }

    private async Task WriteAsync(CancellationToken stoppingToken)
    {
        var group = new List<Member>(MaxMembers);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                group.Clear();
                var events = 0;
                while (group.Count < MaxMembers && events < MaxEvents && _queue.Reader.TryRead(out var member))
                {
                    group.Add(member);
                    events += member.Events.Count;
                }
                if (group.Count > 0)
                {
                    await ApplyAsync(group, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is still queued is answered null and applied by its own request.
        }
    }

    private async Task ApplyAsync(List<Member> group, CancellationToken stoppingToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var handler = scope.ServiceProvider.GetRequiredService<CallbackHandler>();
            var answers = await handler.ApplyGroupAsync(group.Select(m => (m.AgentId, m.Events)).ToList(), stoppingToken);
            metrics.CallbackGroup(group.Count);
            for (var i = 0; i < group.Count; i++)
            {
                group[i].Answer.TrySetResult(answers[i]);
            }
        }
        catch (Exception e)
        {
            // A lost race (a deadlock with a claim), a stop or a fault: each callback goes on its own, with its
            // own retries, and a callback that fails on its own fails alone.
            LogGroupFailed(logger, group.Count, e);
            group.ForEach(m => m.Answer.TrySetResult(null));
        }
    }

    private sealed record Member(Guid AgentId, IReadOnlyList<CallbackEvent> Events, TaskCompletionSource<IResult?> Answer);

    [LoggerMessage(Level = LogLevel.Information, Message = "A group of {Callbacks} callbacks was not applied; each is applied on its own")]
    private static partial void LogGroupFailed(ILogger logger, int callbacks, Exception exception);
}
