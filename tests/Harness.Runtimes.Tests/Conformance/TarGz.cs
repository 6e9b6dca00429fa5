using System.Formats.Tar;
using System.IO.Compression;
using System.Text;

namespace Harness.Runtimes.Tests.Conformance;

/// <summary>Builds and reads volume archives (tar.gz) in memory, the format every runtime archives to and restores from.</summary>
public static class TarGz
{
    public static MemoryStream Create(IReadOnlyDictionary<string, string> files)
    {
        var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        using (var tar = new TarWriter(gzip, TarEntryFormat.Pax, leaveOpen: true))
        {
            foreach (var directory in files.Keys.Select(Path.GetDirectoryName).Where(d => !string.IsNullOrEmpty(d)).Distinct())
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.Directory, directory + "/") { Mode = (UnixFileMode)0x1ED });
            }
            foreach (var (name, content) in files)
            {
                tar.WriteEntry(new PaxTarEntry(TarEntryType.RegularFile, name)
                {
                    DataStream = new MemoryStream(Encoding.UTF8.GetBytes(content)),
                    // rw-r--r--: readable by whatever user the instance runs as.
                    Mode = (UnixFileMode)0x1A4,
                });
            }
        }
        output.Position = 0;
        return output;
    }

    /// <summary>Regular files of an archive by path relative to the volume root ("./a/b" and "a/b" alike).</summary>
    public static Dictionary<string, string> Read(Stream archive)
    {
        var files = new Dictionary<string, string>();
        using var gzip = new GZipStream(archive, CompressionMode.Decompress, leaveOpen: true);
        using var tar = new TarReader(gzip);
        while (tar.GetNextEntry() is { } entry)
        {
            if (entry.EntryType is TarEntryType.RegularFile or TarEntryType.V7RegularFile && entry.DataStream is { } data)
            {
                using var reader = new StreamReader(data, Encoding.UTF8);
                var name = entry.Name.StartsWith("./", StringComparison.Ordinal) ? entry.Name[2..] : entry.Name;
                files[name.TrimStart('/')] = reader.ReadToEnd();
            }
        }
        return files;
    }
}
