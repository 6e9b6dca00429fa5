using System.IO.Compression;
using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.Net.Http.Headers;

namespace Harness.Server.Http;

/// <summary>
/// A JSON body serialized once and sent to many callers, as it is or gzip-compressed for a caller that
/// accepts gzip. Each form is made on first use and kept: a listing of a large fleet is compressed once
/// per copy, not once per request, and goes out at a tenth of its size or less. The gzip form is written
/// by the serializer straight into the compressor when the plain form was not asked for, so a listing of
/// tens of megabytes never exists uncompressed in memory.
/// </summary>
public sealed class SharedJsonBody
{
    private readonly Func<byte[]> _serialize;
    private readonly Action<Stream> _write;
    private readonly Func<Stream, CancellationToken, Task> _writeAsync;
    private byte[]? _json;
    private byte[]? _gzip;

    private SharedJsonBody(Func<byte[]> serialize, Action<Stream> write, Func<Stream, CancellationToken, Task> writeAsync)
    {
        _serialize = serialize;
        _write = write;
        _writeAsync = writeAsync;
    }

    /// <summary>A body of the value <paramref name="value"/> makes when a form is first asked for.</summary>
    public static SharedJsonBody Of<T>(Func<T> value, JsonTypeInfo<T> type) => new(
        () => JsonSerializer.SerializeToUtf8Bytes(value(), type),
        stream => JsonSerializer.Serialize(stream, value(), type),
        (stream, cancellationToken) => JsonSerializer.SerializeAsync(stream, value(), type, cancellationToken));

    public byte[] Json => _json ??= _serialize();

    public byte[] Gzip => _gzip ??= Compress();

    /// <summary>
    /// Makes now the forms <paramref name="other"/> was asked for: a successor, ahead of its first caller, made in
    /// the background at the <paramref name="pacer"/>'s pace.
    /// </summary>
    public async Task MakeLikeAsync(SharedJsonBody other, Pacer pacer, CancellationToken cancellationToken)
    {
        if (other._gzip is null && other._json is null)
        {
            return;
        }
        using var output = new MemoryStream();
        if (other._gzip is not null)
        {
            await using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
            {
                await _writeAsync(pacer.Writing(gzip), cancellationToken);
            }
            _gzip = output.ToArray();
        }
        else
        {
            await _writeAsync(pacer.Writing(output), cancellationToken);
            _json = output.ToArray();
        }
    }

    /// <summary>The body in the form the request accepts; <c>Vary: Accept-Encoding</c> either way.</summary>
    public IResult ToResult(HttpContext context)
    {
        context.Response.Headers.Vary = HeaderNames.AcceptEncoding;
        if (!AcceptsGzip(context.Request.Headers.AcceptEncoding))
        {
            return TypedResults.Bytes(Json, "application/json");
        }
        context.Response.Headers.ContentEncoding = "gzip";
        return TypedResults.Bytes(Gzip, "application/json");
    }

    /// <summary>
    /// <c>Accept-Encoding</c> names gzip with a quality above zero, or <c>*</c> does and gzip is not named
    /// (RFC 9110 §12.5.3). A header that does not parse accepts nothing but the identity.
    /// </summary>
    internal static bool AcceptsGzip(IList<string> acceptEncoding)
    {
        if (acceptEncoding.Count == 0 || !StringWithQualityHeaderValue.TryParseList(acceptEncoding, out var codings))
        {
            return false;
        }
        var gzip = codings.FirstOrDefault(c => c.Value.Equals("gzip", StringComparison.OrdinalIgnoreCase));
        var any = codings.FirstOrDefault(c => c.Value.Equals("*", StringComparison.Ordinal));
        var chosen = gzip ?? any;
        return chosen is not null && (chosen.Quality ?? 1) > 0;
    }

    private byte[] Compress()
    {
        var json = _json;
        using var output = new MemoryStream();
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            if (json is not null)
            {
                gzip.Write(json);
            }
            else
            {
                _write(gzip);
            }
        }
        return output.ToArray();
    }
}
