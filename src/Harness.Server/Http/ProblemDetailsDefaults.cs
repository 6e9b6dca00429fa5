using Microsoft.AspNetCore.Http.Features;

namespace Harness.Server.Http;

/// <summary>
/// Some refusals are made by the framework before any Harness code runs (a body over the size
/// limit, a body that is not JSON). They reach the client as bare status codes; this names the field.
/// </summary>
internal static class ProblemDetailsDefaults
{
    public static void Customize(ProblemDetailsContext context)
    {
        var problem = context.ProblemDetails;
        problem.Extensions.Remove("traceId");
        problem.Extensions["trace_id"] = System.Diagnostics.Activity.Current?.Id ?? context.HttpContext.TraceIdentifier;
        if (problem.Extensions.ContainsKey("errors"))
        {
            return;
        }
        var (field, message) = problem.Status switch
        {
            StatusCodes.Status413PayloadTooLarge => ("body", BodyLimitMessage(context.HttpContext)),
            StatusCodes.Status415UnsupportedMediaType => ("content-type", "must be application/json"),
            _ => (null, null),
        };
        if (field is not null)
        {
            problem.Detail = $"{field}: {message}";
            problem.Extensions["errors"] = new Dictionary<string, string[]> { [field] = [message!] };
        }
    }

    private static string BodyLimitMessage(HttpContext context) =>
        context.Features.Get<IHttpMaxRequestBodySizeFeature>()?.MaxRequestBodySize is { } limit
            ? $"is larger than the {limit} bytes allowed"
            : "is too large";
}
