using Microsoft.Extensions.Options;

namespace Harness.Server.Features.Artifacts;

/// <summary>Artifacts as files under <see cref="ArtifactOptions.Root"/>; written to a temp name, flushed, then renamed into place.</summary>
public sealed class FileArtifactStore(IOptions<HarnessServerOptions> options) : IArtifactStore
{
    private string Root => Path.GetFullPath(options.Value.Artifacts.Root);

    public async Task SaveAsync(string path, Stream content, CancellationToken cancellationToken)
    {
        var full = Resolve(path);
        Directory.CreateDirectory(Path.GetDirectoryName(full)!);
        var temp = full + ".part-" + Guid.NewGuid().ToString("N");
        try
        {
            await using (var file = new FileStream(temp, FileMode.CreateNew, FileAccess.Write, FileShare.None, 81920, FileOptions.Asynchronous))
            {
                await content.CopyToAsync(file, cancellationToken);
                file.Flush(flushToDisk: true);
            }
            File.Move(temp, full, overwrite: false);
        }
        finally
        {
            File.Delete(temp);
        }
    }

    public Task<bool> ExistsAsync(string path, CancellationToken cancellationToken) => Task.FromResult(File.Exists(Resolve(path)));

    public Task<Stream?> OpenReadAsync(string path, CancellationToken cancellationToken)
    {
        var full = Resolve(path);
        return Task.FromResult<Stream?>(File.Exists(full) ? new FileStream(full, FileMode.Open, FileAccess.Read, FileShare.Read, 81920, FileOptions.Asynchronous) : null);
    }

    public Task DeleteAsync(string path, CancellationToken cancellationToken)
    {
        File.Delete(Resolve(path));
        return Task.CompletedTask;
    }

    public string FullPath(string path) => Resolve(path);

    private string Resolve(string path)
    {
        var root = Root;
        var full = Path.GetFullPath(Path.Combine(root, path));
        if (!full.StartsWith(root + Path.DirectorySeparatorChar, StringComparison.Ordinal))
        {
            throw new ArgumentException($"artifact path '{path}' leaves the store", nameof(path));
        }
        return full;
    }
}
