using System.IO.Compression;
using Microsoft.Net.Http.Headers;

namespace Harness.Server.Http;

/// <summary>
/// A JSON body serialized once and sent to many callers, as it is or gzip-compressed for a caller that
/// accepts gzip. Each form is made on first use and kept: a listing of a large fleet is compressed once
/// per copy, not once per request, and goes out at a tenth of its size or less.
/// </summary>
public sealed class SharedJsonBody(Func<byte[]> serialize)
{
    private byte[]? _json;
    private byte[]? _gzip;

    public byte[] Json => _json ??= serialize();

    public byte[] Gzip => _gzip ??= Compress(Json);

    /// <summary>Makes now the forms <paramref name="other"/> was asked for: a successor, ahead of its first caller.</summary>
    public void MakeLike(SharedJsonBody other)
    {
        if (other._gzip is not null)
        {
            _ = Gzip;
        }
        else if (other._json is not null)
        {
            _ = Json;
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

    private static byte[] Compress(byte[] json)
    {
        using var output = new MemoryStream(json.Length / 8);
        using (var gzip = new GZipStream(output, CompressionLevel.Fastest, leaveOpen: true))
        {
            gzip.Write(json);
        }
        return output.ToArray();
    }
}
