namespace Harness.Cli.Operator;

/// <summary>Left-aligned columns separated by two spaces, headers in capitals; the last column is never padded.</summary>
internal sealed class TextTable(params string[] headers)
{
    private readonly List<string[]> _rows = [];

    public int Count => _rows.Count;

    public void Add(params string?[] cells) => _rows.Add([.. cells.Select(c => c ?? "")]);

    public IEnumerable<string> Lines()
    {
        var all = new List<string[]> { headers };
        all.AddRange(_rows);
        var widths = Enumerable.Range(0, headers.Length).Select(i => all.Max(r => i < r.Length ? r[i].Length : 0)).ToArray();
        return all.Select(row => string.Join("  ", row.Select((cell, i) => i == row.Length - 1 ? cell : cell.PadRight(widths[i]))).TrimEnd());
    }

    public void WriteTo(TextWriter output)
    {
        foreach (var line in Lines())
        {
            output.WriteLine(line);
        }
    }
}
