using System.Collections.Concurrent;
using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using System.Threading.Channels;

namespace Harness.Testing;

/// <summary>
/// The real <c>harness</c> executable as a child process: output captured line by line, signals
/// sent to its own pid, and killed (by that pid) if a test leaves it running.
/// </summary>
public sealed partial class HarnessProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly ConcurrentQueue<string> _lines = new();
    private readonly Channel<string> _feed = Channel.CreateUnbounded<string>();

    private HarnessProcess(Process process)
    {
        _process = process;
    }

    public int Pid => _process.Id;
    public IReadOnlyCollection<string> Lines => _lines;
    public string Output => string.Join('\n', _lines);

    /// <summary>Path of harness.dll, copied next to the test assembly by the project reference.</summary>
    public static string ExecutablePath => Path.Combine(AppContext.BaseDirectory, "harness.dll");

    public static HarnessProcess Start(IEnumerable<string> args, IDictionary<string, string?>? environment = null, string? workingDirectory = null)
    {
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = workingDirectory ?? Path.GetTempPath(),
        };
        info.ArgumentList.Add(ExecutablePath);
        foreach (var arg in args)
        {
            info.ArgumentList.Add(arg);
        }
        // A child must not inherit settings meant for the test host itself.
        foreach (var name in new[] { "HARNESS_ADMIN_TOKEN", "NODE_AGENT_SHARED_SECRET", "ASPNETCORE_URLS", "HARNESS_DATABASE_URL", "HARNESS_DATABASE_PROVIDER", "HARNESS_DATA_DIR" })
        {
            info.Environment.Remove(name);
        }
        info.Environment["DOTNET_NOLOGO"] = "1";
        foreach (var (key, value) in environment ?? new Dictionary<string, string?>())
        {
            info.Environment[key] = value;
        }
        var process = new Process { StartInfo = info, EnableRaisingEvents = true };
        var harness = new HarnessProcess(process);
        process.OutputDataReceived += (_, e) => harness.Receive(e.Data);
        process.ErrorDataReceived += (_, e) => harness.Receive(e.Data);
        process.Start();
        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return harness;
    }

    private void Receive(string? line)
    {
        if (line is null)
        {
            return;
        }
        _lines.Enqueue(line);
        _feed.Writer.TryWrite(line);
    }

    /// <summary>Waits for an output line matching <paramref name="predicate"/> and returns it.</summary>
    public async Task<string> WaitForLineAsync(Func<string, bool> predicate, TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            while (true)
            {
                var line = await _feed.Reader.ReadAsync(cancel.Token);
                if (predicate(line))
                {
                    return line;
                }
            }
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"no matching line within {timeout}; output so far:\n{Output}");
        }
    }

    public void Signal(int signal)
    {
        if (Kill(_process.Id, signal) != 0)
        {
            throw new InvalidOperationException($"kill({_process.Id}, {signal}) failed: errno {Marshal.GetLastPInvokeError()}");
        }
    }

    public const int SigInt = 2;
    public const int SigTerm = 15;

    public async Task<int> WaitForExitAsync(TimeSpan timeout)
    {
        using var cancel = new CancellationTokenSource(timeout);
        try
        {
            await _process.WaitForExitAsync(cancel.Token);
        }
        catch (OperationCanceledException)
        {
            throw new TimeoutException($"pid {_process.Id} still running after {timeout}; output:\n{Output}");
        }
        // The parameterless wait also waits for the redirected output to be read to its end.
        _process.WaitForExit();
        return _process.ExitCode;
    }

    /// <summary>
    /// A loopback port no one listens on, for a server a test starts. Picked below the kernel's ephemeral
    /// range: a port the kernel hands out for <c>:0</c> comes from that range, and it hands the same range
    /// to outgoing connections, so a parallel test's client could take the port between this check and
    /// the server's bind (seen once as "address already in use"). A port is handed out once per process.
    /// </summary>
    public static int FreePort()
    {
        var (low, high) = BelowEphemeralPorts.Value;
        for (var attempt = 0; attempt < 200; attempt++)
        {
            var port = Random.Shared.Next(low, high);
            if (!HandedOut.TryAdd(port, 0))
            {
                continue;
            }
            try
            {
                using var listener = new TcpListener(IPAddress.Loopback, port);
                listener.Start();
                return port;
            }
            catch (SocketException)
            {
            }
        }
        throw new InvalidOperationException($"no free loopback port between {low} and {high} after 200 tries");
    }

    private static readonly ConcurrentDictionary<int, byte> HandedOut = new();

    /// <summary>Up to 10,000 ports below the ephemeral range's start (Linux: <c>ip_local_port_range</c>, 32768 by default).</summary>
    private static readonly Lazy<(int Low, int High)> BelowEphemeralPorts = new(() =>
    {
        const string range = "/proc/sys/net/ipv4/ip_local_port_range";
        var start = File.Exists(range) && int.TryParse(File.ReadAllText(range).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries)[0], out var first)
            ? first
            : 32_768;
        return (Math.Max(1_024, start - 10_000), Math.Max(2_048, start));
    });

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            _process.Kill(entireProcessTree: true);
            await _process.WaitForExitAsync();
        }
        _process.Dispose();
    }

    [LibraryImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static partial int Kill(int pid, int signal);
}
