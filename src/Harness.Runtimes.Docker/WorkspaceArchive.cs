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
        await using (var gzip = new GZipStream(destination, CompressionLevel.Fastest, leaveOpen: true))
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
                await writer.WriteEntryAsync(entry, cancellationToken);
                entries++;
            }
        }
        return entries;
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
        catch (InvalidDataException e)
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
