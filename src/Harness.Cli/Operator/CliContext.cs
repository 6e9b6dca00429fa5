using System.Runtime.InteropServices;
using Harness.Cli.Operator.Progress;

namespace Harness.Cli.Operator;

/// <summary>
/// Everything an operator command touches outside itself: the console, the environment, the
/// current folder, the network, the clock and Ctrl-C. <see cref="Default"/> is the real process;
/// tests pass writers, a scripted handler and a manual clock.
/// </summary>
internal sealed record CliContext(
    TextWriter Out,
    TextWriter Error,
    bool OutputIsTerminal,
    Func<TerminalSize> TerminalSize,
    Func<string, string?> GetEnvironmentVariable,
    string CurrentDirectory,
    Func<HttpMessageHandler> CreateHandler,
    TimeProvider Time,
    TimeSpan PollInterval,
    Func<TimeSpan, CancellationToken, Task> Delay,
    Func<Action, IDisposable> OnInterrupt)
{
    public static CliContext Default { get; } = new(
        Console.Out,
        Console.Error,
        !Console.IsOutputRedirected && Environment.GetEnvironmentVariable("TERM") is not "dumb",
        () => Console.IsOutputRedirected ? Progress.TerminalSize.Unbounded : new(Console.WindowWidth is > 0 and var w ? Math.Max(w, 20) : 80, Console.WindowHeight is > 0 and var h ? Math.Max(h, 10) : 24),
        Environment.GetEnvironmentVariable,
        Environment.CurrentDirectory,
        () => new SocketsHttpHandler { ConnectTimeout = TimeSpan.FromSeconds(10), AutomaticDecompression = System.Net.DecompressionMethods.GZip },
        TimeProvider.System,
        TimeSpan.FromSeconds(1),
        (delay, cancellationToken) => Task.Delay(delay, TimeProvider.System, cancellationToken),
        CtrlC);

    /// <summary>Ctrl-C calls <paramref name="interrupted"/> instead of ending the process while the registration lives.</summary>
    private static IDisposable CtrlC(Action interrupted) =>
        PosixSignalRegistration.Create(PosixSignal.SIGINT, context =>
        {
            context.Cancel = true;
            interrupted();
        });
}
