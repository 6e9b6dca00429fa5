using Harness.Contracts.Runs;

namespace Harness.Cli.Operator.Progress;

/// <summary>
/// Prints successive snapshots of a run. On a terminal the live block (<see cref="RunProgressView.Frame"/>)
/// is redrawn in place with ANSI cursor moves and new failures scroll above it; when output is
/// redirected a plain line is printed only when the counts change, failures as they appear.
/// </summary>
internal sealed class RunProgressPrinter(TextWriter output, bool interactive, TerminalSize size)
{
    private const string Escape = "\u001b[";
    private readonly HashSet<(string DeviceId, int Attempt)> _reported = [];
    private string? _lastCounts;
    private int _frameHeight;

    public void Render(RunDetail detail, DateTimeOffset now)
    {
        var failures = NewFailures(detail);
        if (interactive)
        {
            Erase();
            Write(failures);
            var frame = Fit(RunProgressView.Frame(detail, now, GridColumns(size.Width), MaxGridRows(detail, now, size)), size.Width);
            Write(frame);
            _frameHeight = frame.Count;
        }
        else
        {
            Write(failures);
            var counts = $"{detail.Run.Status} {RunProgressView.NonZeroCounts(detail.Run.Counts)}";
            if (counts != _lastCounts)
            {
                output.WriteLine(RunProgressView.PlainLine(detail, now));
                _lastCounts = counts;
            }
        }
        output.Flush();
    }

    /// <summary>The live block stays on screen; the summary goes below it.</summary>
    public void Finish(RunDetail detail, DateTimeOffset now)
    {
        output.WriteLine(RunProgressView.Summary(detail.Run, now));
        output.Flush();
    }

    private List<string> NewFailures(RunDetail detail) =>
        [.. RunProgressView.Ordered(detail.Devices)
            .Where(d => RunProgressView.FailureLine(d) is not null && _reported.Add((d.DeviceId, d.Attempt)))
            .Select(d => RunProgressView.FailureLine(d)!)];

    /// <summary>Moves to the first line of the previous frame and clears to the end of the screen.</summary>
    private void Erase()
    {
        if (_frameHeight > 0)
        {
            output.Write($"{Escape}{_frameHeight}A\r{Escape}J");
        }
    }

    private void Write(IEnumerable<string> lines)
    {
        foreach (var line in lines)
        {
            output.WriteLine(line);
        }
    }

    /// <summary>50 devices a row, fewer on a narrow terminal: whole groups of ten (11 characters each) after a label of up to 6.</summary>
    public static int GridColumns(int width) =>
        Math.Clamp((Math.Min(width, 1000) - 7) / 11 * 10, 10, RunProgressView.GridColumns);

    /// <summary>
    /// The block must fit on screen or the cursor cannot climb back to its top: the grid gets what
    /// the header, counts, bar and legend (as wrapped) leave, less the line the cursor rests on.
    /// </summary>
    private static int MaxGridRows(RunDetail detail, DateTimeOffset now, TerminalSize size)
    {
        if (size.Height == int.MaxValue)
        {
            return int.MaxValue;
        }
        var fixedLines = Fit([RunProgressView.Header(detail.Run, now), RunProgressView.CountsLine(detail.Run.Counts),
            RunProgressView.ProgressBar(detail.Run.Counts), RunProgressView.Legend], size.Width).Count;
        return Math.Max(size.Height - fixedLines - 1, 1);
    }

    /// <summary>Breaks lines wider than the terminal at their double-space separators, so the redraw counts lines right.</summary>
    public static List<string> Fit(IEnumerable<string> lines, int width)
    {
        var result = new List<string>();
        foreach (var line in lines)
        {
            if (line.Length < width)
            {
                result.Add(line);
                continue;
            }
            var current = "";
            foreach (var part in line.Split("  "))
            {
                var candidate = current.Length == 0 ? part : $"{current}  {part}";
                if (candidate.Length >= width && current.Length > 0)
                {
                    result.Add(current);
                    current = part;
                }
                else
                {
                    current = candidate;
                }
            }
            // A single part wider than the terminal is cut rather than left to wrap.
            result.Add(current.Length >= width ? current[..Math.Max(width - 1, 1)] : current);
        }
        return result;
    }
}
