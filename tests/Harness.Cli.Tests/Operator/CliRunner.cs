using System.CommandLine;
using Harness.Cli.Commands.Devices;
using Harness.Cli.Commands.Runs;
using Harness.Cli.Commands.Workflows;
using Harness.Cli.Operator;
using Harness.Cli.Operator.Progress;

namespace Harness.Cli.Tests.Operator;

/// <summary>
/// The operator commands in-process, as Program.cs wires them, against a <see cref="StubApi"/>:
/// output captured, environment and current folder chosen by the test, time manual, polls instant.
/// </summary>
internal sealed class CliRunner : IDisposable
{
    public static readonly DateTimeOffset Start = new(2026, 11, 23, 8, 0, 0, TimeSpan.Zero);

    public StubApi Api { get; } = new();
    public ManualClock Clock { get; } = new(Start);
    public Dictionary<string, string?> Environment { get; } = new(StringComparer.Ordinal);
    public string Directory { get; } = Path.Combine(Path.GetTempPath(), $"harness-cli-{Guid.NewGuid():N}");
    public bool Interactive { get; set; }
    public TerminalSize Size { get; set; } = new(200, 60);
    public int Polls { get; private set; }

    /// <summary>Called before each poll delay with the number of delays so far; a test may "press Ctrl-C" here.</summary>
    public Action<int>? OnDelay { get; set; }

    private Action? _interrupt;

    public CliRunner()
    {
        System.IO.Directory.CreateDirectory(Directory);
    }

    public void PressCtrlC() => _interrupt?.Invoke();

    public async Task<Result> RunAsync(params string[] args)
    {
        var output = new StringWriter();
        var error = new StringWriter();
        var context = new CliContext(
            output, error, Interactive, () => Size,
            name => Environment.GetValueOrDefault(name),
            Directory,
            () => new NonDisposingHandler(Api),
            Clock,
            TimeSpan.FromSeconds(1),
            (delay, cancellationToken) =>
            {
                cancellationToken.ThrowIfCancellationRequested();
                Polls++;
                OnDelay?.Invoke(Polls);
                cancellationToken.ThrowIfCancellationRequested();
                Clock.Advance(delay);
                return Task.CompletedTask;
            },
            interrupted =>
            {
                _interrupt = interrupted;
                return new Registration(() => _interrupt = null);
            });
        var root = new RootCommand("test");
        root.Subcommands.Add(WorkflowsCommand.Create(context));
        root.Subcommands.Add(RunsCommand.Create(context));
        root.Subcommands.Add(DevicesCommand.Create(context));
        root.Subcommands.Add(Harness.Cli.Commands.Dashboard.DashboardCommand.Create(context));
        var exit = await root.Parse(args).InvokeAsync(new InvocationConfiguration { Output = output, Error = error, EnableDefaultExceptionHandler = false });
        return new Result(exit, output.ToString(), error.ToString());
    }

    public void Dispose()
    {
        try
        {
            System.IO.Directory.Delete(Directory, recursive: true);
        }
        catch (IOException)
        {
            // Best effort: a temp folder left behind is harmless.
        }
    }

    internal sealed record Result(int Exit, string Out, string Error)
    {
        public string[] Lines => Out.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => l.TrimEnd('\r')).ToArray();
    }

    private sealed class Registration(Action dispose) : IDisposable
    {
        public void Dispose() => dispose();
    }

    /// <summary>Each command disposes its HttpClient; the stub (and what it recorded) must outlive it.</summary>
    private sealed class NonDisposingHandler(HttpMessageHandler inner) : DelegatingHandler(inner)
    {
        protected override void Dispose(bool disposing)
        {
            // Keep the inner stub alive for the test's assertions.
        }
    }
}
