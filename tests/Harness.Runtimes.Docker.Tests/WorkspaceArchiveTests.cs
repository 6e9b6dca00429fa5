using System.Formats.Tar;
using System.Text;

namespace Harness.Runtimes.Docker.Tests;

public sealed class WorkspaceArchiveTests
{
    [Fact]
    public async Task FromEngineTar_UnseekableInput_StripsTheMountDirectory()
    {
        var engineTar = new MemoryStream();
        using (var writer = new TarWriter(engineTar, leaveOpen: true))
        {
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "data/"));
            writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, "data/src/"));
            writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, "data/src/a.txt") { DataStream = new MemoryStream("a"u8.ToArray()) });
        }
        engineTar.Position = 0;
        using var archive = new MemoryStream();

        var entries = await WorkspaceArchive.FromEngineTarAsync(new ForwardOnlyStream(engineTar), archive, CancellationToken.None);

        archive.Position = 0;
        Assert.Equal(2, entries);
        var read = TestArchives.Read(archive);
        Assert.Equal(["src", "src/a.txt"], read.Keys.Order(StringComparer.Ordinal));
        Assert.Equal("a", Encoding.UTF8.GetString(read["src/a.txt"]!));
    }

    [Theory]
    [InlineData("../escape.txt")]
    [InlineData("/etc/passwd")]
    [InlineData("a/../../b")]
    public async Task ToEngineTar_EntryOutsideTheVolume_IsInvalid(string name)
    {
        using var archive = TestArchives.Create((name, "x"));

        var error = await Assert.ThrowsAsync<RuntimeException>(() => WorkspaceArchive.ToEngineTarAsync(archive, new MemoryStream(), CancellationToken.None));

        Assert.Equal(RuntimeErrorKind.Invalid, error.Kind);
    }

    [Fact]
    public async Task ToEngineTar_DotSlashPaths_AreTakenAsRelative()
    {
        using var archive = TestArchives.Create(("./notes/b.txt", "b"));
        using var tar = new MemoryStream();

        await WorkspaceArchive.ToEngineTarAsync(archive, tar, CancellationToken.None);

        tar.Position = 0;
        using var reader = new TarReader(tar);
        var names = new List<string>();
        while (reader.GetNextEntry() is { } entry)
        {
            names.Add(entry.Name);
        }
        Assert.Equal(["notes/", "notes/b.txt"], names);
    }

    /// <summary>What the engine's HTTP body is: readable once, front to back.</summary>
    private sealed class ForwardOnlyStream(Stream inner) : Stream
    {
        public override bool CanRead => true;
        public override bool CanSeek => false;
        public override bool CanWrite => false;
        public override long Length => throw new NotSupportedException();
        public override long Position { get => throw new NotSupportedException(); set => throw new NotSupportedException(); }
        public override int Read(byte[] buffer, int offset, int count) => inner.Read(buffer, offset, Math.Min(count, 7));
        public override void Flush() { }
        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();
        public override void SetLength(long value) => throw new NotSupportedException();
        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
