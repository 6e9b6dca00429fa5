using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Harness.Runtimes.Docker.Tests;

/// <summary>Workspace archives (tar.gz, paths relative to the volume root) made and read by the tests.</summary>
internal static class TestArchives
{
    public static MemoryStream Create(IReadOnlyDictionary<string, byte[]> files)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var writer = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var directory in files.Keys.Select(Path.GetDirectoryName).Where(d => !string.IsNullOrEmpty(d)).Distinct())
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.Directory, directory + "/") { Mode = (UnixFileMode)0b111_101_101 });
            }
            foreach (var (name, content) in files)
            {
                writer.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    Mode = (UnixFileMode)0b110_100_100,
                    DataStream = new MemoryStream(content),
                });
            }
        }
        output.Position = 0;
        return output;
    }

    public static MemoryStream Create(params (string Name, string Content)[] files) =>
        Create(files.ToDictionary(f => f.Name, f => Encoding.UTF8.GetBytes(f.Content)));

    /// <summary>Every entry of an archive: files with their content, directories with null.</summary>
    public static Dictionary<string, byte[]?> Read(Stream archive)
    {
        var entries = new Dictionary<string, byte[]?>(StringComparer.Ordinal);
        using var gzip = new GZipStream(archive, CompressionMode.Decompress, leaveOpen: true);
        using var reader = new TarReader(gzip);
        while (reader.GetNextEntry() is { } entry)
        {
            if (entry.EntryType == TarEntryType.Directory)
            {
                entries[entry.Name.TrimEnd('/')] = null;
                continue;
            }
            using var content = new MemoryStream();
            entry.DataStream?.CopyTo(content);
            entries[entry.Name] = content.ToArray();
        }
        return entries;
    }
}
