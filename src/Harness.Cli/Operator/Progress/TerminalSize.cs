namespace Harness.Cli.Operator.Progress;

/// <summary>Columns and rows of the terminal the live progress block must fit in.</summary>
internal readonly record struct TerminalSize(int Width, int Height)
{
    public static TerminalSize Unbounded => new(int.MaxValue, int.MaxValue);
}
