using System.Security.Cryptography;
using Microsoft.AspNetCore.Http.Features;

namespace Harness.Server.Features.Artifacts;

/// <summary>
/// An upload's body spooled to a temporary file, counted and hashed, so nothing reaches the store unless it is
/// whole and within the limit. Deleted on dispose.
/// </summary>
public sealed class ArtifactSpool : IAsyncDisposable
{
    private ArtifactSpool(string path, long size, string sha256)
    {
        Path = path;
        Size = size;
        Sha256 = sha256;
    }

    public string Path { get; }

    public long Size { get; }

    public string Sha256 { get; }

    public Stream OpenRead() => File.OpenRead(Path);

    /// <summary>The spooled body, or null when it is larger than <paramref name="max"/> bytes.</summary>
    public static async Task<ArtifactSpool?> ReadAsync(HttpContext http, long max, CancellationToken cancellationToken)
    {
        if (http.Request.ContentLength > max)
        {
            return null;
        }
        if (http.Features.Get<IHttpMaxRequestBodySizeFeature>() is { IsReadOnly: false } limit)
        {
            limit.MaxRequestBodySize = max + 1;
        }
        var path = System.IO.Path.Combine(System.IO.Path.GetTempPath(), $"harness-upload-{Guid.NewGuid():N}");
        try
        {
            await using var file = new FileStream(path, FileMode.CreateNew, FileAccess.ReadWrite, FileShare.None, 81920, FileOptions.Asynchronous);
            using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
            var buffer = new byte[81920];
            long size = 0;
            int read;
            while ((read = await http.Request.Body.ReadAsync(buffer, cancellationToken)) > 0)
            {
                size += read;
                if (size > max)
                {
                    await file.DisposeAsync();
                    File.Delete(path);
                    return null;
                }
                hash.AppendData(buffer, 0, read);
                await file.WriteAsync(buffer.AsMemory(0, read), cancellationToken);
            }
            return new ArtifactSpool(path, size, Convert.ToHexStringLower(hash.GetHashAndReset()));
        }
        catch
        {
            File.Delete(path);
            throw;
        }
    }

    public static ProblemHttpResult TooLarge(long max) =>
        Http.Problems.Field(StatusCodes.Status413PayloadTooLarge, "Artifact too large", "body", $"artifacts are limited to {max} bytes (MAX_ARTIFACT_BYTES)");

    public ValueTask DisposeAsync()
    {
        File.Delete(Path);
        return ValueTask.CompletedTask;
    }
}
