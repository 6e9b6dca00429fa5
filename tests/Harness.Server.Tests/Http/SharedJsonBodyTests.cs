using System.Diagnostics;
using System.IO.Compression;
using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Devices;
using Harness.Contracts.Nodes;
using Harness.Server.Http;

namespace Harness.Server.Tests.Http;

public sealed class SharedJsonBodyTests
{
    private static readonly IReadOnlyList<DeviceView> Fleet = [.. Enumerable.Range(1, 2_000).Select(i => new DeviceView(
        $"SIM-{i:D5}", $"sim-{i}", i, null, $"PC-{i % 20:D2}", "sim", OnlineStatus.Online, "ready", DateTimeOffset.UnixEpoch.AddSeconds(i), null, null))];

    [Fact]
    public async Task Gzip_MadeWithoutThePlainForm_DecompressesToIt()
    {
        var body = SharedJsonBody.Of(() => Fleet, HarnessJsonContext.Default.IReadOnlyListDeviceView);

        var gzip = await body.GzipAsync();

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(Fleet, HarnessJsonContext.Default.IReadOnlyListDeviceView), Gunzip(gzip));
        Assert.Equal(Gunzip(gzip), await body.JsonAsync());
        Assert.Same(gzip, await body.GzipAsync());
    }

    [Fact]
    public async Task Forms_AskedForByManyCallersAtOnce_AreMadeOnce()
    {
        var body = new Counted();
        var expected = JsonSerializer.SerializeToUtf8Bytes(Fleet, HarnessJsonContext.Default.IReadOnlyListDeviceView);

        var gzips = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(body.Body.GzipAsync)));
        var jsons = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(body.Body.JsonAsync)));

        Assert.All(gzips, g => Assert.Same(gzips[0], g));
        Assert.All(jsons, j => Assert.Same(jsons[0], j));
        Assert.Equal(expected, Gunzip(gzips[0]));
        Assert.Equal(expected, jsons[0]);
        Assert.Equal(2, body.Made);
    }

    [Fact]
    public async Task Form_ThatFailed_IsMadeAgainForTheNextCaller()
    {
        var calls = 0;
        var body = SharedJsonBody.Of(() => ++calls == 1 ? throw new InvalidOperationException("the snapshot was not ready") : Fleet,
            HarnessJsonContext.Default.IReadOnlyListDeviceView);

        await Assert.ThrowsAsync<InvalidOperationException>(body.JsonAsync);
        var json = await body.JsonAsync();

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(Fleet, HarnessJsonContext.Default.IReadOnlyListDeviceView), json);
        Assert.Same(json, await body.JsonAsync());
        Assert.Equal(2, calls);
    }

    [Fact]
    public async Task MakeLike_MakesOnlyTheFormsThePredecessorWasAskedFor()
    {
        var expected = JsonSerializer.SerializeToUtf8Bytes(Fleet, HarnessJsonContext.Default.IReadOnlyListDeviceView);
        var compressed = new Counted();
        _ = await compressed.Body.GzipAsync();
        var plain = new Counted();
        _ = await plain.Body.JsonAsync();

        var successor = new Counted();
        await successor.Body.MakeLikeAsync(compressed.Body, new Pacer(), CancellationToken.None);
        Assert.Equal(1, successor.Made);
        Assert.Equal(expected, Gunzip(await successor.Body.GzipAsync()));
        Assert.Equal(1, successor.Made);
        Assert.Equal(expected, await successor.Body.JsonAsync()); // made when first asked for, not before
        Assert.Equal(2, successor.Made);

        var plainSuccessor = new Counted();
        await plainSuccessor.Body.MakeLikeAsync(plain.Body, new Pacer(), CancellationToken.None);
        Assert.Equal(expected, await plainSuccessor.Body.JsonAsync());
        Assert.Equal(1, plainSuccessor.Made);

        var unasked = new Counted();
        await unasked.Body.MakeLikeAsync(new Counted().Body, new Pacer(), CancellationToken.None);
        Assert.Equal(0, unasked.Made);
    }

    [Fact]
    public async Task Pacer_RestsOnlyOnceASliceIsOver_AsLongAsItWorked()
    {
        var sinceStart = Stopwatch.StartNew();
        var fresh = new Pacer();
        var early = fresh.RestIfDueAsync(CancellationToken.None);
        // (Unless this thread was held up for a whole slice between the two lines.)
        Assert.True(early.IsCompletedSuccessfully || sinceStart.Elapsed >= Pacer.Slice, "no rest before a slice is over");

        var pacer = new Pacer();
        var worked = Stopwatch.StartNew();
        while (worked.Elapsed < Pacer.Slice + TimeSpan.FromMilliseconds(10))
        {
            Thread.SpinWait(1_000);
        }
        await pacer.RestIfDueAsync(CancellationToken.None);

        Assert.True(pacer.Rested >= Pacer.Slice, $"rested {pacer.Rested.TotalMilliseconds} ms after a slice of {worked.Elapsed.TotalMilliseconds} ms");
    }

    [Fact]
    public async Task Pacer_WritesThroughUnchanged()
    {
        using var paced = new MemoryStream();
        await JsonSerializer.SerializeAsync(new Pacer().Writing(paced), Fleet, HarnessJsonContext.Default.IReadOnlyListDeviceView);

        Assert.Equal(JsonSerializer.SerializeToUtf8Bytes(Fleet, HarnessJsonContext.Default.IReadOnlyListDeviceView), paced.ToArray());
    }

    /// <summary>A body of <see cref="Fleet"/> that counts how often it was serialized.</summary>
    private sealed class Counted
    {
        public Counted() => Body = SharedJsonBody.Of(() => { Made++; return Fleet; }, HarnessJsonContext.Default.IReadOnlyListDeviceView);

        public SharedJsonBody Body { get; }

        public int Made { get; private set; }
    }

    private static byte[] Gunzip(byte[] gzip)
    {
        using var gunzip = new GZipStream(new MemoryStream(gzip), CompressionMode.Decompress);
        using var plain = new MemoryStream();
        gunzip.CopyTo(plain);
        return plain.ToArray();
    }
}
