using Harness.Runtimes;
using Microsoft.AspNetCore.Http.HttpResults;

namespace Harness.Agent.Workspaces;

/// <summary>RFC 9457 answers of the Runtime Agent API: one status per <see cref="RuntimeErrorKind"/>, whatever the backend.</summary>
internal static class RuntimeProblems
{
    public static int StatusOf(RuntimeErrorKind kind) => kind switch
    {
        RuntimeErrorKind.NotFound => StatusCodes.Status404NotFound,
        RuntimeErrorKind.Conflict => StatusCodes.Status409Conflict,
        RuntimeErrorKind.ImageNotFound => StatusCodes.Status422UnprocessableEntity,
        RuntimeErrorKind.Invalid => StatusCodes.Status400BadRequest,
        RuntimeErrorKind.Unavailable => StatusCodes.Status503ServiceUnavailable,
        _ => StatusCodes.Status502BadGateway,
    };

    private static string TitleOf(RuntimeErrorKind kind) => kind switch
    {
        RuntimeErrorKind.NotFound => "Not found",
        RuntimeErrorKind.Conflict => "Conflict",
        RuntimeErrorKind.ImageNotFound => "Image not found",
        RuntimeErrorKind.Invalid => "Invalid request",
        RuntimeErrorKind.Unavailable => "Runtime unavailable",
        _ => "Runtime failed",
    };

    public static ProblemHttpResult From(RuntimeException e) =>
        TypedResults.Problem(statusCode: StatusOf(e.Kind), title: TitleOf(e.Kind), detail: e.Message,
            extensions: new Dictionary<string, object?> { ["kind"] = e.Kind.ToString() });

    public static ProblemHttpResult Field(int status, string field, string message) =>
        TypedResults.Problem(statusCode: status, title: status == StatusCodes.Status404NotFound ? "Not found" : "Invalid request",
            detail: $"{field}: {message}",
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } });

    public static ProblemHttpResult Invalid(IReadOnlyDictionary<string, string[]> errors) =>
        TypedResults.Problem(statusCode: StatusCodes.Status400BadRequest, title: "Invalid request",
            detail: string.Join("; ", errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))),
            extensions: new Dictionary<string, object?> { ["errors"] = errors });
}
