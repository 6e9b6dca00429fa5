using System.Threading.Channels;

namespace Harness.Server.Data;

/// <summary>
/// A group commit. The requests that arrive while every writer is busy wait, and the next free writer takes
/// all of them (up to <see cref="MaxMembers"/>, or <see cref="MaxWeight"/> of <see cref="Weight"/>) into one
/// transaction (<see cref="ApplyAsync"/>), in a scope of its own; each request is answered once its group has
/// committed. Under load one commit and its round trips serve many requests; a lone request is a group of one.
/// A member answered null, or every member of a group that failed (which changed nothing), is applied by its
/// own request on its own, with that path's retries: one bad request never fails the others.
/// </summary>
public abstract partial class GroupCommitter<TIn, TOut>(IServiceScopeFactory scopes, DatabaseOptions database, ILogger logger) : BackgroundService
    where TOut : class
{
    private readonly Channel<(TIn Input, TaskCompletionSource<TOut?> Answer)> _queue = Channel.CreateUnbounded<(TIn, TaskCompletionSource<TOut?>)>();
    private volatile bool _open;

    protected virtual int MaxMembers => 64;

    protected virtual int MaxWeight => int.MaxValue;

    protected virtual int Weight(TIn input) => 1;

    /// <summary>How many groups run side by side as configured; 0: none, every request goes on its own.</summary>
    protected abstract int ConfiguredWriters { get; }

    /// <summary>SQLite has one writer anyway: more groups at once would only wait for each other.</summary>
    private int Writers => database.Provider == DatabaseOptions.Postgres ? ConfiguredWriters : Math.Min(1, ConfiguredWriters);

    /// <summary>Applies the group in one transaction and answers each member, in order (null: apply it on its own); throws having changed nothing.</summary>
    protected abstract Task<TOut?[]> ApplyAsync(IServiceProvider services, IReadOnlyList<TIn> group, CancellationToken cancellationToken);

    /// <summary>Called after a group committed.</summary>
    protected virtual void Committed(int members)
    {
    }

    /// <summary>
    /// Queues the request for the next group and returns its answer once the group has committed, or null when
    /// it was not applied (grouping is off, the server is stopping, or the group failed).
    /// </summary>
    public Task<TOut?> SendAsync(TIn input)
    {
        if (!_open)
        {
            return Task.FromResult<TOut?>(null);
        }
        var answer = new TaskCompletionSource<TOut?>(TaskCreationOptions.RunContinuationsAsynchronously);
        return _queue.Writer.TryWrite((input, answer)) ? answer.Task : Task.FromResult<TOut?>(null);
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        var writers = Writers;
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
        var group = new List<(TIn Input, TaskCompletionSource<TOut?> Answer)>(MaxMembers);
        try
        {
            while (await _queue.Reader.WaitToReadAsync(stoppingToken))
            {
                group.Clear();
                var weight = 0;
                while (group.Count < MaxMembers && weight < MaxWeight && _queue.Reader.TryRead(out var member))
                {
                    group.Add(member);
                    weight += Weight(member.Input);
                }
                if (group.Count > 0)
                {
                    await ApplyGroupAsync(group, stoppingToken);
                }
            }
        }
        catch (OperationCanceledException) when (stoppingToken.IsCancellationRequested)
        {
            // Stopping: what is still queued is answered null and applied by its own request.
        }
    }

    private async Task ApplyGroupAsync(List<(TIn Input, TaskCompletionSource<TOut?> Answer)> group, CancellationToken stoppingToken)
    {
        try
        {
            await using var scope = scopes.CreateAsyncScope();
            var answers = await ApplyAsync(scope.ServiceProvider, group.Select(m => m.Input).ToList(), stoppingToken);
            Committed(group.Count);
            for (var i = 0; i < group.Count; i++)
            {
                group[i].Answer.TrySetResult(answers[i]);
            }
        }
        catch (Exception e)
        {
            // A lost race (a deadlock), a stop or a fault: each request goes on its own, with its own retries,
            // and one that fails on its own fails alone.
            LogGroupFailed(logger, GetType().Name, group.Count, e);
            group.ForEach(m => m.Answer.TrySetResult(null));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Committer}: a group of {Members} was not applied; each is applied on its own")]
    private static partial void LogGroupFailed(ILogger logger, string committer, int members, Exception exception);
}
