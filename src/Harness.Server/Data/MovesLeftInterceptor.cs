using System.Data.Common;
using Harness.Server.Features.Runs;
using Microsoft.EntityFrameworkCore.Diagnostics;

namespace Harness.Server.Data;

/// <summary>
/// Wakes <see cref="RunCounterFolder"/> once a transaction that left a run counter move has committed, so the
/// folder finds the move (woken before the commit, it could look too early and sleep on it).
/// </summary>
internal sealed class MovesLeftInterceptor : DbTransactionInterceptor
{
    public static readonly MovesLeftInterceptor Instance = new();

    public override void TransactionCommitted(DbTransaction transaction, TransactionEndEventData eventData) => WakeIfLeft(eventData);

    public override Task TransactionCommittedAsync(DbTransaction transaction, TransactionEndEventData eventData, CancellationToken cancellationToken = default)
    {
        WakeIfLeft(eventData);
        return Task.CompletedTask;
    }

    private static void WakeIfLeft(TransactionEndEventData eventData)
    {
        if (eventData.Context is PostgresHarnessDbContext db && db.TakeMovesLeft())
        {
            RunCounterFolder.Wake();
        }
    }
}
