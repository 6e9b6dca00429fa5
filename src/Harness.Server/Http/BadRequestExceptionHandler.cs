using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics;

namespace Harness.Server.Http;

/// <summary>
/// Turns body-binding failures (malformed JSON, wrong types, oversized or missing bodies) into
/// problem+json that names the field, instead of an empty 400 or a 500.
/// </summary>
internal sealed partial class BadRequestExceptionHandler(IProblemDetailsService problems, ILogger<BadRequestExceptionHandler> logger) : IExceptionHandler
{
    public async ValueTask<bool> TryHandleAsync(HttpContext context, Exception exception, CancellationToken cancellationToken)
    {
        if (context.Response.HasStarted)
        {
            return false;
        }
        if (IsUnknownCharset(exception))
        {
            // The JSON reader throws a plain InvalidOperationException for a charset it cannot decode; it is the client's mistake, not ours.
            exception = new BadHttpRequestException("unknown charset", StatusCodes.Status415UnsupportedMediaType, exception);
        }
        if (IsNulCharacter(exception))
        {
            // PostgreSQL text cannot hold U+0000 (SQLite can); a NUL in a name or filter is the client's mistake, not a server fault.
            exception = new BadHttpRequestException("NUL character", StatusCodes.Status400BadRequest, exception);
        }
        if (exception is not BadHttpRequestException bad)
        {
            return false;
        }
        var (field, message) = Describe(bad, context);
        LogRejected(logger, bad.StatusCode, field, message);
        context.Response.StatusCode = bad.StatusCode;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = context,
            Exception = exception,
            ProblemDetails =
            {
                Status = bad.StatusCode,
                Title = bad.StatusCode switch
                {
                    StatusCodes.Status413PayloadTooLarge => "Request body too large",
                    StatusCodes.Status415UnsupportedMediaType => "Unsupported media type",
                    _ => "The request is invalid",
                },
                Detail = $"{field}: {message}",
                Extensions = { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } },
            },
        });
    }

    private static (string Field, string Message) Describe(BadHttpRequestException bad, HttpContext context)
    {
        if (bad.StatusCode == StatusCodes.Status413PayloadTooLarge)
        {
            var limit = context.Features.Get<Microsoft.AspNetCore.Http.Features.IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize;
            return ("body", limit is null ? "is too large" : $"is larger than the {limit} bytes allowed");
        }
        if (bad.StatusCode == StatusCodes.Status415UnsupportedMediaType)
        {
            return ("content-type", bad.InnerException is InvalidOperationException
                ? "has a charset the server cannot decode; send application/json in UTF-8"
                : "must be application/json");
        }
        if (bad.Message == "NUL character")
        {
            var inQuery = context.Request.QueryString.Value?.Contains("%00", StringComparison.Ordinal) == true;
            return (inQuery ? "query" : "body", "text must not contain the NUL character (U+0000)");
        }
        if (FindJsonException(bad) is { } json)
        {
            return (FieldFromPath(json.Path), CleanJsonMessage(json));
        }
        if (BindFailure().Match(bad.Message) is { Success: true } m)
        {
            // A query or route value of the wrong type: name it as the client spelled it (snake_case).
            var type = m.Groups["type"].Value.Replace("Nullable<", "", StringComparison.Ordinal).TrimEnd('>');
            return (JsonNamingPolicy.SnakeCaseLower.ConvertName(m.Groups["name"].Value), $"'{m.Groups["value"].Value}' is not a valid {type.ToLowerInvariant()}");
        }
        if (bad.Message.Contains("body", StringComparison.OrdinalIgnoreCase))
        {
            return ("body", "a JSON body is required");
        }
        return ("request", bad.Message);
    }

    private static JsonException? FindJsonException(Exception exception)
    {
        for (var e = exception.InnerException; e is not null; e = e.InnerException)
        {
            if (e is JsonException json)
            {
                return json;
            }
        }
        return null;
    }

    private static bool IsNulCharacter(Exception exception)
    {
        for (Exception? e = exception; e is not null; e = e.InnerException)
        {
            // 22021 character_not_in_repertoire: what PostgreSQL answers to a string with U+0000 in it.
            if (e is System.Data.Common.DbException { SqlState: "22021" })
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsUnknownCharset(Exception exception) =>
        exception is InvalidOperationException { InnerException: ArgumentException } invalid
        && invalid.Message.Contains("charset", StringComparison.Ordinal)
        && invalid.StackTrace?.Contains("HttpRequestJsonExtensions", StringComparison.Ordinal) == true;

    /// <summary><c>$.devices[2].state</c> → <c>devices[2].state</c>; the document itself is <c>body</c>.</summary>
    internal static string FieldFromPath(string? path)
    {
        if (string.IsNullOrEmpty(path) || path == "$")
        {
            return "body";
        }
        return path.StartsWith("$.", StringComparison.Ordinal) ? path[2..] : path.TrimStart('$');
    }

    private static string CleanJsonMessage(JsonException json)
    {
        var message = json.Message;
        var cut = message.IndexOf(" Path:", StringComparison.Ordinal);
        if (cut > 0)
        {
            message = message[..cut];
        }
        // "The JSON value could not be converted to System.Int32." reads better as the expected JSON type.
        if (message.StartsWith("The JSON value could not be converted to ", StringComparison.Ordinal))
        {
            var type = message["The JSON value could not be converted to ".Length..].TrimEnd('.');
            return $"has the wrong type; expected {Friendly(type)}";
        }
        return json.LineNumber is { } line ? $"malformed JSON at line {line + 1}, byte {json.BytePositionInLine}: {message}" : message;
    }

    private static string Friendly(string clrType) => clrType switch
    {
        var t when t.Contains("Int32", StringComparison.Ordinal) || t.Contains("Int64", StringComparison.Ordinal) => "an integer",
        var t when t.Contains("Boolean", StringComparison.Ordinal) => "true or false",
        var t when t.Contains("String", StringComparison.Ordinal) && !t.Contains("Dictionary", StringComparison.Ordinal) && !t.Contains("List", StringComparison.Ordinal) => "a string",
        var t when t.Contains("Dictionary", StringComparison.Ordinal) => "an object of strings",
        var t when t.Contains("List", StringComparison.Ordinal) => "an array",
        var t when t.Contains("DeviceState", StringComparison.Ordinal) => "one of ready, busy, booting, unauthorized, offline, error",
        var t when t.Contains("Guid", StringComparison.Ordinal) => "a UUID",
        var t when t.Contains("Double", StringComparison.Ordinal) || t.Contains("Decimal", StringComparison.Ordinal) => "a number",
        var t when t.Contains("DateTime", StringComparison.Ordinal) => "an ISO-8601 time",
        _ => "an object",
    };

    [LoggerMessage(Level = LogLevel.Information, Message = "Rejected request with {Status}: {Field}: {Reason}")]
    private static partial void LogRejected(ILogger logger, int status, string field, string reason);

    [System.Text.RegularExpressions.GeneratedRegex("^Failed to bind parameter \"(?<type>\\S+) (?<name>\\w+)\" from \"(?<value>.*)\"\\.?$")]
    private static partial System.Text.RegularExpressions.Regex BindFailure();
}
