using System.Diagnostics;

namespace Harness.Server.Http;

/// <summary>
/// Spreads a long piece of background work (a read and serialization of the whole fleet) so it takes about
/// half a core while it runs: after each <see cref="Slice"/> of work it rests as long as it worked. On a
/// small machine, a second of work at full speed leaves requests queued behind it for that second; paced,
/// the same work takes twice as long and requests keep their pace.
/// </summary>
public sealed class Pacer
{
    /// <summary>How long the work runs between two rests.</summary>
    public static readonly TimeSpan Slice = TimeSpan.FromMilliseconds(20);

    private long _sliceStarted = Stopwatch.GetTimestamp();
    private long _restedTicks;

    /// <summary>The time spent resting so far: the work took the elapsed time less this.</summary>
    public TimeSpan Rested => TimeSpan.FromTicks(_restedTicks);

    /// <summary>Rests when the current slice of work is over; otherwise returns at once.</summary>
    public ValueTask RestIfDueAsync(CancellationToken cancellationToken)
    {
        var worked = Stopwatch.GetElapsedTime(_sliceStarted);
        return worked < Slice ? ValueTask.CompletedTask : RestAsync(worked, cancellationToken);
    }

    private async ValueTask RestAsync(TimeSpan worked, CancellationToken cancellationToken)
    {
        // Wall-clock time, not the TimeProvider: this paces CPU, and a test's fake clock must not hold it up.
        var rest = Stopwatch.GetTimestamp();
        await Task.Delay(worked, cancellationToken);
        _restedTicks += Stopwatch.GetElapsedTime(rest).Ticks;
        _sliceStarted = Stopwatch.GetTimestamp();
    }

    /// <summary>A stream that writes through to <paramref name="inner"/> and rests between slices on asynchronous writes.</summary>
    public Stream Writing(Stream inner) => new PacedStream(inner, this);

    private sealed class PacedStream(Stream inner, Pacer pacer) : Stream
    {
        public override bool CanRead => false;
        public override bool CanSeek => false;
        public override bool CanWrite => true;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }

        public override void Write(byte[] buffer, int offset, int count) => inner.Write(buffer, offset, count);

        public override void Write(ReadOnlySpan<byte> buffer) => inner.Write(buffer);

        public override async ValueTask WriteAsync(ReadOnlyMemory<byte> buffer, CancellationToken cancellationToken = default)
        {
            inner.Write(buffer.Span);
            await pacer.RestIfDueAsync(cancellationToken);
        }

        public override Task WriteAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) =>
            WriteAsync(buffer.AsMemory(offset, count), cancellationToken).AsTask();

        public override void Flush() => inner.Flush();

        public override Task FlushAsync(CancellationToken cancellationToken) => inner.FlushAsync(cancellationToken);

        public override int Read(byte[] buffer, int offset, int count) => throw new NotSupportedException();

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();
    }
}
