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
/// tens of megabytes never exists uncompressed in memory. A form is made once however many callers ask for it
/// at the same time: the first makes it, the others wait for it without holding a thread.
/// </summary>
public sealed class SharedJsonBody
{
    private readonly Func<object?> _value;
    private readonly JsonTypeInfo _type;
    private Task<byte[]>? _json;
    private Task<byte[]>? _gzip;

    private SharedJsonBody(Func<object?> value, JsonTypeInfo type)
    {
        _value = value;
        _type = type;
    }

    /// <summary>A body of the value <paramref name="value"/> makes when a form is first asked for.</summary>
    public static SharedJsonBody Of<T>(Func<T> value, JsonTypeInfo<T> type) => new(() => value(), type);

    public Task<byte[]> JsonAsync() => Once(ref _json, () => JsonSerializer.SerializeToUtf8Bytes(_value(), _type));

    public Task<byte[]> GzipAsync() => Once(ref _gzip, Compress);

    /// <summary>
    /// The form in <paramref name="slot"/>: made here, on the caller's thread, if no one made it or is making it.
    /// A form that failed fails its callers of the moment and is forgotten: the next caller makes it again.
    /// </summary>
    private static Task<byte[]> Once(ref Task<byte[]>? slot, Func<byte[]> make)
    {
        if (Volatile.Read(ref slot) is { } made)
        {
            return made;
        }
        var making = new Task<byte[]>(make);
        if (Interlocked.CompareExchange(ref slot, making, null) is { } other)
        {
            return other;
        }
        making.RunSynchronously();
        if (!making.IsCompletedSuccessfully)
        {
            Interlocked.CompareExchange(ref slot, null, making);
        }
        return making;
    }

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
            _gzip = Task.FromResult(output.ToArray());
        }
        else
        {
            await JsonSerializer.SerializeAsync(pacer.Writing(output), _value(), _type, cancellationToken);
            _json = Task.FromResult(output.ToArray());
        }
    }

    /// <summary>The body in the form the request accepts; <c>Vary: Accept-Encoding</c> either way.</summary>
    public async Task<IResult> ToResultAsync(HttpContext context)
    {
        context.Response.Headers.Vary = HeaderNames.AcceptEncoding;
        if (!AcceptsGzip(context.Request.Headers.AcceptEncoding))
        {
            return TypedResults.Bytes(await JsonAsync(), "application/json");
        }
        context.Response.Headers.ContentEncoding = "gzip";
        return TypedResults.Bytes(await GzipAsync(), "application/json");
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
        // The plain form is reused only when it is ready: one being made now is not waited for.
        var json = Volatile.Read(ref _json);
        using var output = new MemoryStream();
        using (var gzip = Compressing(output))
        {
            if (json is { IsCompletedSuccessfully: true })
            {
                gzip.Write(json.Result);
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
