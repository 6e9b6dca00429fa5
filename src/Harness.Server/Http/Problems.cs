namespace Harness.Server.Http;

/// <summary>RFC 9457 responses whose detail names the field at fault, as the API promises everywhere.</summary>
public static class Problems
{
    public static ProblemHttpResult Conflict(string field, string message) =>
        Field(StatusCodes.Status409Conflict, "Conflict", field, message);

    public static ProblemHttpResult NotFound(string what) =>
        TypedResults.Problem(statusCode: StatusCodes.Status404NotFound, title: "Not found", detail: what);

    public static ProblemHttpResult Forbidden(string field, string message) =>
        Field(StatusCodes.Status403Forbidden, "Forbidden", field, message);

    public static ProblemHttpResult Field(int status, string title, string field, string message) =>
        TypedResults.Problem(
            statusCode: status,
            title: title,
            detail: $"{field}: {message}",
            extensions: new Dictionary<string, object?> { ["errors"] = new Dictionary<string, string[]> { [field] = [message] } });
}
