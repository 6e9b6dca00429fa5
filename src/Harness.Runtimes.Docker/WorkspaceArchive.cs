using System.Formats.Tar;
using System.IO.Compression;

namespace Harness.Runtimes.Docker;

/// <summary>
/// The archive format of a workspace: a gzip-compressed tar whose paths are relative to the volume
/// root (<c>notes/a.txt</c>, not <c>data/notes/a.txt</c>), as every runtime writes and reads it.
/// </summary>
internal static class WorkspaceArchive
{
    /// <summary>
    /// Rewrites the engine's tar of the mounted volume directory (entries under <c>data/</c>) as the archive
    /// format: the leading directory stripped, gzip-compressed. Returns the number of entries written.
    /// </summary>
    public static async Task<int> FromEngineTarAsync(Stream engineTar, Stream destination, CancellationToken cancellationToken)
    {
        var entries = 0;
        await using var gzip = new GZipStream(destination, CompressionLevel.Fastest, leaveOpen: true);
        await using (var writer = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        await using (var reader = new TarReader(engineTar, leaveOpen: true))
        {
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                var name = StripFirstSegment(entry.Name);
                if (name.Length == 0)
                {
                    continue; // the volume root itself
                }
                entry.Name = name;
                if (entry.EntryType == TarEntryType.HardLink)
                {
                    entry.LinkName = StripFirstSegment(entry.LinkName);
                }
                // A tar header holds the size before the data, so a writer on a stream it cannot seek back in
                // wants data it can measure: each file is spooled (to memory, or to disk past a few MB) first.
                await using var spool = await SpoolAsync(entry, cancellationToken);
                await writer.WriteEntryAsync(entry, cancellationToken);
                entries++;
            }
        }
        if (entries == 0)
        {
            // An empty volume is still a valid tar: the end-of-archive marker, which TarWriter omits when it wrote nothing.
            await gzip.WriteAsync(new byte[1024], cancellationToken);
        }
        return entries;
    }

    private const long InMemorySpoolLimit = 4 * 1024 * 1024;

    private static async Task<Stream?> SpoolAsync(TarEntry entry, CancellationToken cancellationToken)
    {
        if (entry.DataStream is not { CanSeek: false } data)
        {
            return null;
        }
        Stream spool = entry.Length <= InMemorySpoolLimit
            ? new MemoryStream((int)entry.Length)
            : new FileStream(Path.Combine(Path.GetTempPath(), $"harness-archive-{Guid.NewGuid():N}.spool"), FileMode.CreateNew,
                FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.DeleteOnClose | FileOptions.Asynchronous);
        await data.CopyToAsync(spool, cancellationToken);
        spool.Position = 0;
        entry.DataStream = spool;
        return spool;
    }

    /// <summary>
    /// Reads a workspace archive into a plain tar the engine extracts into the volume root. Every entry is
    /// checked first, so a bad archive fails before anything of the volume is touched.
    /// </summary>
    public static async Task<int> ToEngineTarAsync(Stream source, Stream tar, CancellationToken cancellationToken)
    {
        var entries = 0;
        try
        {
            await using var gzip = new GZipStream(source, CompressionMode.Decompress, leaveOpen: true);
            await using var reader = new TarReader(gzip, leaveOpen: true);
            await using var writer = new TarWriter(tar, TarEntryFormat.Pax, leaveOpen: true);
            while (await reader.GetNextEntryAsync(copyData: false, cancellationToken) is { } entry)
            {
                var name = CheckedRelative(entry.Name);
                if (name.Length == 0)
                {
                    continue;
                }
                entry.Name = name;
                if (entry.EntryType == TarEntryType.HardLink)
                {
                    entry.LinkName = CheckedRelative(entry.LinkName);
                }
                await writer.WriteEntryAsync(entry, cancellationToken);
                entries++;
            }
        }
        catch (EndOfStreamException) when (entries == 0)
        {
            // No tar at all inside the gzip (an empty stream): an empty workspace.
        }
        catch (Exception e) when (e is InvalidDataException or EndOfStreamException or FormatException)
        {
            throw new RuntimeException(RuntimeErrorKind.Invalid, $"the archive is not a valid tar.gz: {e.Message}", e);
        }
        return entries;
    }

    private static string StripFirstSegment(string path)
    {
        var trimmed = path.TrimStart('/');
        var slash = trimmed.IndexOf('/');
        return slash < 0 ? "" : trimmed[(slash + 1)..];
    }

    /// <summary>A path inside the volume: relative, no <c>..</c>; a leading <c>./</c> is dropped.</summary>
    private static string CheckedRelative(string path)
    {
        var p = path;
        while (p.StartsWith("./", StringComparison.Ordinal))
        {
            p = p[2..];
        }
        if (p is "." or "")
        {
            return "";
        }
        if (p.StartsWith('/') || p.Split('/').Any(segment => segment == ".."))
        {
            throw new RuntimeException(RuntimeErrorKind.Invalid, $"the archive entry '{path}' points outside the volume");
        }
        return p;
    }
}
