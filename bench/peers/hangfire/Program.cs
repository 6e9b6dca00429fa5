using System.Diagnostics;
using Hangfire;
using Hangfire.PostgreSql;
using Hangfire.PostgreSql.Factories;

// Hangfire peer for bench/throughput.sh: enqueue JOBS no-op jobs into Hangfire.PostgreSql storage
// (its own schema), then start one BackgroundJobServer with WORKERS workers and time the drain from
// the first job's pickup until the storage lists every job as succeeded.
// usage: HangfirePeer <connection string> [jobs=50000] [workers=32]
var connection = args[0];
var jobs = args.Length > 1 ? int.Parse(args[1], System.Globalization.CultureInfo.InvariantCulture) : 50_000;
var workers = args.Length > 2 ? int.Parse(args[2], System.Globalization.CultureInfo.InvariantCulture) : 32;

var storage = new PostgreSqlStorage(
    new NpgsqlConnectionFactory(connection, new PostgreSqlStorageOptions()),
    new PostgreSqlStorageOptions
    {
        SchemaName = "hangfire",
        PrepareSchemaIfNecessary = true,
        // Empty-queue polling only; keeps the tail from waiting the 15 s default.
        QueuePollInterval = TimeSpan.FromMilliseconds(50),
    });
GlobalConfiguration.Configuration.UseStorage(storage).UseIgnoredAssemblyVersionTypeResolver();
var client = new BackgroundJobClient(storage);
var enqueue = Stopwatch.StartNew();
await Parallel.ForAsync(0, jobs, new ParallelOptions { MaxDegreeOfParallelism = 16 }, (i, _) =>
{
    client.Enqueue(() => NoopJob.Run(i));
    return ValueTask.CompletedTask;
});
Console.Error.WriteLine($"hangfire: enqueued {jobs} in {enqueue.Elapsed.TotalSeconds:F1} s");

var monitor = storage.GetMonitoringApi();
var clock = Stopwatch.StartNew();
NoopJob.Clock = clock;
using (new BackgroundJobServer(new BackgroundJobServerOptions { WorkerCount = workers, Queues = ["default"] }, storage))
{
    while (monitor.SucceededListCount() < jobs)
    {
        await Task.Delay(20);
    }
}
var last = clock.ElapsedTicks;
var seconds = (last - NoopJob.FirstPickup) / (double)Stopwatch.Frequency;
Console.WriteLine(FormattableString.Invariant($"hangfire jobs={jobs} workers={workers} wall_s={seconds:F2} jobs_per_s={jobs / seconds:F0}"));

public static class NoopJob
{
    public static Stopwatch Clock { get; set; } = Stopwatch.StartNew();
    public static long FirstPickup;

    public static void Run(int i)
    {
        _ = i;
        Interlocked.CompareExchange(ref FirstPickup, Clock.ElapsedTicks, 0);
    }
}
