namespace Harness.Server.Data;

/// <summary>
/// Runs a unit of work that may lose a race again with a clean change tracker: on a unique index (two
/// requests inserting the same row), or to a PostgreSQL deadlock or serialization failure (concurrent
/// row lockers); after <see cref="MaxAttempts"/> it answers 503, never 500. Whatever transaction an
/// attempt left open is rolled back before the next.
/// </summary>
public static class ConflictRetry
{
    public const int MaxAttempts = 3;

    public static Task<IResult> RunAsync(
        HarnessDbContext db, Func<Task<IResult>> attempt, Action<int, Exception> onRetry, Action<int, Exception> onGiveUp, string field, string retryAdvice) =>
        RunAsync(db, attempt, onRetry, (n, e) =>
        {
            onGiveUp(n, e);
            return TypedResults.Problem(statusCode: StatusCodes.Status503ServiceUnavailable, title: "Concurrent update", detail: $"{field}: {retryAdvice}");
        });

    /// <summary>The same, for work whose caller has its own answer when every attempt lost (<paramref name="onGiveUp"/>).</summary>
    public static async Task<T> RunAsync<T>(HarnessDbContext db, Func<Task<T>> attempt, Action<int, Exception> onRetry, Func<int, Exception, T> onGiveUp)
    {
        for (var n = 1; ; n++)
        {
            try
            {
                return await attempt();
            }
            catch (Exception e) when (IsConflict(e) && n < MaxAttempts)
            {
                onRetry(n, e);
                db.ChangeTracker.Clear();
            }
            catch (Exception e) when (IsConflict(e))
            {
                db.ChangeTracker.Clear();
                return onGiveUp(n, e);
            }
            finally
            {
                // Rolls back a transaction an attempt left open; a committed one is already over.
                if (db.Database.CurrentTransaction is { } open)
                {
                    await open.DisposeAsync();
                }
            }
        }
    }

    private static bool IsConflict(Exception e)
    {
        for (var x = e; x is not null; x = x.InnerException)
        {
            if (x is Microsoft.EntityFrameworkCore.DbUpdateException
                or Npgsql.PostgresException { SqlState: Npgsql.PostgresErrorCodes.DeadlockDetected or Npgsql.PostgresErrorCodes.SerializationFailure })
            {
                return true;
            }
        }
        return false;
    }
}
