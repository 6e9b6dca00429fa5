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
    private readonly Func<object?> _value;
    private readonly JsonTypeInfo _type;
    private byte[]? _json;
    private byte[]? _gzip;

    private SharedJsonBody(Func<object?> value, JsonTypeInfo type)
    {
        _value = value;
        _type = type;
    }

    /// <summary>A body of the value <paramref name="value"/> makes when a form is first asked for.</summary>
    public static SharedJsonBody Of<T>(Func<T> value, JsonTypeInfo<T> type) => new(() => value(), type);

    public byte[] Json => _json ??= JsonSerializer.SerializeToUtf8Bytes(_value(), _type);

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
            await using (var gzip = Compressing(output))
            {
                await JsonSerializer.SerializeAsync(pacer.Writing(gzip), _value(), _type, cancellationToken);
            }
            _gzip = output.ToArray();
        }
        else
        {
            await JsonSerializer.SerializeAsync(pacer.Writing(output), _value(), _type, cancellationToken);
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
        using (var gzip = Compressing(output))
        {
            if (json is not null)
            {
                gzip.Write(json);
            }
            else
            {
                JsonSerializer.Serialize(gzip, _value(), _type);
            }
        }
        return output.ToArray();
    }

    private static GZipStream Compressing(Stream output) => new(output, CompressionLevel.Fastest, leaveOpen: true);
}
