using System.Text;

namespace Harness.Runtimes.Sandbox;

/// <summary>
/// Turns a process's raw output into lines for <see cref="ISandboxOutput"/>: UTF-8 with invalid bytes replaced, a
/// trailing <c>\r</c> dropped, and lines longer than <see cref="MaxLineBytes"/> split (at a character boundary) so
/// a job printing without newlines cannot grow the agent's memory.
/// </summary>
public static class OutputLines
{
    public const int MaxLineBytes = 16 * 1024;

    private static readonly UTF8Encoding Utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: false);

    /// <summary>Reads <paramref name="source"/> to its end. Never throws for the stream's end or a closed pipe.</summary>
    public static async Task PumpAsync(Stream source, SandboxStream stream, ISandboxOutput output, CancellationToken cancellationToken)
    {
        var splitter = new Splitter(stream, output);
        var buffer = new byte[MaxLineBytes];
        while (true)
        {
            int read;
            try
            {
                read = await source.ReadAsync(buffer, cancellationToken);
            }
            catch (Exception ex) when (ex is IOException or ObjectDisposedException)
            {
                read = 0;
            }
            if (read == 0)
            {
                await splitter.FlushAsync(cancellationToken);
                return;
            }
            await splitter.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
        }
    }

    /// <summary>
    /// The same rules for output that arrives in pieces from elsewhere (the Docker engine's multiplexed log
    /// stream): <see cref="WriteAsync"/> each piece as it comes, <see cref="FlushAsync"/> at the end.
    /// </summary>
    public sealed class Splitter(SandboxStream stream, ISandboxOutput output)
    {
        private readonly byte[] _buffer = new byte[MaxLineBytes * 2];
        private int _count;

        public async ValueTask WriteAsync(ReadOnlyMemory<byte> bytes, CancellationToken cancellationToken = default)
        {
            while (bytes.Length > 0)
            {
                var take = Math.Min(bytes.Length, _buffer.Length - _count);
                bytes[..take].CopyTo(_buffer.AsMemory(_count));
                _count += take;
                bytes = bytes[take..];
                await EmitCompleteLinesAsync(cancellationToken);
            }
        }

        /// <summary>Writes what is left as a last line (a final line without a newline is still a line).</summary>
        public async ValueTask FlushAsync(CancellationToken cancellationToken = default)
        {
            if (_count > 0)
            {
                await EmitAsync(_buffer.AsMemory(0, _count), cancellationToken);
                _count = 0;
            }
        }

        private async ValueTask EmitCompleteLinesAsync(CancellationToken cancellationToken)
        {
            var start = 0;
            while (true)
            {
                var newline = Array.IndexOf(_buffer, (byte)'\n', start, Math.Min(_count - start, MaxLineBytes + 1));
                if (newline >= 0)
                {
                    await EmitAsync(_buffer.AsMemory(start, newline - start), cancellationToken);
                    start = newline + 1;
                }
                else if (_count - start >= MaxLineBytes)
                {
                    var cut = CharacterBoundary(_buffer, start, MaxLineBytes);
                    await EmitAsync(_buffer.AsMemory(start, cut), cancellationToken);
                    start += cut;
                }
                else
                {
                    break;
                }
            }
            Buffer.BlockCopy(_buffer, start, _buffer, 0, _count - start);
            _count -= start;
        }

        private ValueTask EmitAsync(ReadOnlyMemory<byte> line, CancellationToken cancellationToken)
        {
            if (line.Length > 0 && line.Span[^1] == (byte)'\r')
            {
                line = line[..^1];
            }
            return output.WriteLineAsync(stream, Utf8.GetString(line.Span), cancellationToken);
        }
    }

    /// <summary>The longest length ≤ <paramref name="max"/> that does not end inside a UTF-8 sequence.</summary>
    internal static int CharacterBoundary(byte[] buffer, int start, int max)
    {
        // Find the last lead byte among the final three and see whether its whole sequence fits.
        for (var back = 1; back <= 3 && back <= max; back++)
        {
            var b = buffer[start + max - back];
            if ((b & 0xC0) == 0x80)
            {
                continue;
            }
            var length = b >= 0xF0 ? 4 : b >= 0xE0 ? 3 : b >= 0xC0 ? 2 : 1;
            return length > back ? max - back : max;
        }
        return max; // not UTF-8 anyway
    }
}
