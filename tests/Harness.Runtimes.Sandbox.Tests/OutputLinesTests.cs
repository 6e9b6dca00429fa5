using System.Text;

namespace Harness.Runtimes.Sandbox.Tests;

public sealed class OutputLinesTests
{
    private sealed class Lines : ISandboxOutput
    {
        public List<string> All { get; } = [];

        public ValueTask WriteLineAsync(SandboxStream stream, string line, CancellationToken cancellationToken)
        {
            All.Add(line);
            return ValueTask.CompletedTask;
        }
    }

    private static async Task<List<string>> PumpAsync(byte[] bytes)
    {
        var lines = new Lines();
        await OutputLines.PumpAsync(new MemoryStream(bytes), SandboxStream.Stdout, lines, CancellationToken.None);
        return lines.All;
    }

    [Fact]
    public async Task Pump_CrLfAndLastLineWithoutNewline_AreLines()
    {
        Assert.Equal(["a", "", "b", "c"], await PumpAsync("a\n\nb\r\nc"u8.ToArray()));
    }

    [Fact]
    public async Task Pump_InvalidUtf8_IsReplacedNotThrown()
    {
        Assert.Equal(["ok \uFFFD end"], await PumpAsync([.. "ok "u8, 0xFF, .. " end\n"u8]));
    }

    [Fact]
    public async Task Pump_LongLine_IsSplitAtCharacterBoundaries()
    {
        // 3-byte characters across the 16 KiB cut: no piece may end inside one.
        var text = new string('€', 20_000);
        var lines = await PumpAsync(Encoding.UTF8.GetBytes(text + "\nnext\n"));
        Assert.True(lines.Count >= 5, $"{lines.Count} lines: {string.Join(", ", lines.Select(l => l.Length))}");
        Assert.All(lines, l => Assert.True(Encoding.UTF8.GetByteCount(l) <= OutputLines.MaxLineBytes));
        Assert.Equal(text, string.Concat(lines.Take(lines.Count - 1)));
        Assert.Equal("next", lines[^1]);
    }

    [Fact]
    public async Task Splitter_PiecesSplitAnywhere_GiveTheSameLinesAsOneStream()
    {
        // The Docker engine hands output over in frames that may cut a line, or a character, anywhere.
        var bytes = Encoding.UTF8.GetBytes("first\r\nsé€ond\n\nlast without newline");
        for (var piece = 1; piece <= 5; piece++)
        {
            var lines = new Lines();
            var splitter = new OutputLines.Splitter(SandboxStream.Stderr, lines);
            for (var at = 0; at < bytes.Length; at += piece)
            {
                await splitter.WriteAsync(bytes.AsMemory(at, Math.Min(piece, bytes.Length - at)));
            }
            await splitter.FlushAsync();
            Assert.Equal(["first", "sé€ond", "", "last without newline"], lines.All);
        }
    }
}
