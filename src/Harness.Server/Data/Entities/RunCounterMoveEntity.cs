namespace Harness.Server.Data.Entities;

/// <summary>
/// A move of a run's counters that could not be added to the run's row at once, because another
/// transaction was moving them (PostgreSQL only). The next transaction to move that run's counters adds
/// it, and deletes it, under the run row's lock (<see cref="HarnessDbContext.MoveRunCountersAsync"/>).
/// </summary>
public sealed class RunCounterMoveEntity
{
    public long Id { get; set; }
    public Guid RunId { get; set; }
    public int Total { get; set; }
    public int Queued { get; set; }
    public int Running { get; set; }
    public int Succeeded { get; set; }
    public int Failed { get; set; }
    public int Skipped { get; set; }
    public int Cancelled { get; set; }
}
