using System.Diagnostics;

namespace Harness.Testing;

/// <summary>
/// A PostgreSQL cluster of one test's own (initdb in a temp folder, a free loopback port), so the
/// test can stop and restart it without disturbing the cluster every other test shares. Run as the
/// <c>postgres</c> user when the tests run as root, as scripts/lib/postgres.sh does.
/// </summary>
public sealed class PrivatePostgres : IAsyncDisposable
{
    private readonly string _bin;
    private readonly string _root;
    private readonly bool _asRoot = Environment.UserName == "root";

    private PrivatePostgres(string bin, string root, int port)
    {
        _bin = bin;
        _root = root;
        Port = port;
    }

    public int Port { get; }
    private string Data => Path.Combine(_root, "data");

    /// <summary>The cluster's admin connection string (pooling off, so a restart leaves no dead pooled connections in the test).</summary>
    public string AdminConnectionString => $"Host=127.0.0.1;Port={Port};Username=postgres;Database=postgres;Pooling=false";

    public static async Task<PrivatePostgres> StartAsync()
    {
        var bin = Directory.Exists("/usr/lib/postgresql")
            ? Directory.GetDirectories("/usr/lib/postgresql").Select(d => Path.Combine(d, "bin")).Where(d => File.Exists(Path.Combine(d, "initdb")))
                .OrderBy(d => d, StringComparer.Ordinal).LastOrDefault()
            : null;
        if (bin is null)
        {
            throw new InvalidOperationException("PostgreSQL's initdb was not found under /usr/lib/postgresql; run the suite with ./test.sh, which installs it.");
        }
        var root = Directory.CreateTempSubdirectory("harness-pg-fault-").FullName;
        var postgres = new PrivatePostgres(bin, root, HarnessProcess.FreePort());
        if (postgres._asRoot)
        {
            await RunAsync("chown", ["postgres", root]);
        }
        await postgres.PgAsync("initdb", ["-D", postgres.Data, "-U", "postgres", "--auth=trust", "-E", "UTF8", "--no-locale"]);
        await postgres.StartServerAsync();
        return postgres;
    }

    /// <summary>
    /// Starts the cluster. A commit is written to the kernel before PostgreSQL acknowledges it
    /// (<c>synchronous_commit=on</c>), so an acknowledged commit survives a crash of PostgreSQL's
    /// processes, which is the fault these tests inject. <c>fsync</c> stays off: the kernel does not
    /// crash here, and flushing to disk would only slow the tests. With <c>synchronous_commit=off</c>
    /// a crash loses the last acknowledged commits, as PostgreSQL documents, and a test would blame
    /// Harness for a callback the database itself forgot.
    /// </summary>
    public Task StartServerAsync() => PgAsync("pg_ctl", ["-D", Data, "-l", Path.Combine(_root, "postgres.log"), "-w", "-t", "60",
        "-o", $"-p {Port} -k {_root} -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=on -c full_page_writes=off", "start"]);

    /// <summary>Stops the cluster; <c>immediate</c> is a crash (no checkpoint, clients cut), <c>fast</c> a clean shutdown.</summary>
    public Task StopServerAsync(string mode = "immediate") => PgAsync("pg_ctl", ["-D", Data, "-m", mode, "-w", "-t", "60", "stop"]);

    private Task PgAsync(string tool, string[] args) =>
        _asRoot ? RunAsync("runuser", ["-u", "postgres", "--", Path.Combine(_bin, tool), .. args]) : RunAsync(Path.Combine(_bin, tool), args);

    private static async Task RunAsync(string file, string[] args)
    {
        var info = new ProcessStartInfo(file) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        using var process = Process.Start(info)!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var cancel = new CancellationTokenSource(TimeSpan.FromSeconds(120));
        await process.WaitForExitAsync(cancel.Token);
        if (process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{file} {string.Join(' ', args)} exited {process.ExitCode}: {await output}{await error}");
        }
    }

    public async ValueTask DisposeAsync()
    {
        try
        {
            await StopServerAsync();
        }
        catch (InvalidOperationException)
        {
            // Already stopped.
        }
        Directory.Delete(_root, recursive: true);
    }
}
