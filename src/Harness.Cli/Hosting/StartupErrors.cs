using System.Data.Common;
using Microsoft.Extensions.Options;

namespace Harness.Cli.Hosting;

/// <summary>
/// Turns the errors an operator can fix (bad settings, an unreachable database) into a short
/// message and exit code 2, instead of a stack trace. Anything else is a bug and keeps its trace.
/// </summary>
internal static class StartupErrors
{
    public const int ExitCode = 2;

    public static async Task<int> RunAsync(Func<Task<int>> run)
    {
        try
        {
            return await run();
        }
        catch (OptionsValidationException e)
        {
            await Console.Error.WriteLineAsync("harness: the configuration is invalid:");
            foreach (var failure in e.Failures)
            {
                await Console.Error.WriteLineAsync($"  - {failure}");
            }
            return ExitCode;
        }
        catch (Exception e) when (Database(e) is { } database)
        {
            await Console.Error.WriteLineAsync(
                $"harness: cannot use the database: {database.Message}{Environment.NewLine}" +
                "  Check --database-provider / HARNESS_DATABASE_PROVIDER and --database-url / HARNESS_DATABASE_URL.");
            return ExitCode;
        }
    }

    private static Exception? Database(Exception e)
    {
        for (Exception? current = e; current is not null; current = current.InnerException)
        {
            // Npgsql's and SQLite's errors both derive from DbException (a malformed connection string fails validation earlier).
            if (current is DbException)
            {
                return current;
            }
        }
        return null;
    }
}
