namespace Harness.Server.Console.Shared;

/// <summary>The words of a refused operation, as the API would have put them in problem+json.</summary>
public static class ProblemText
{
    public static string Of(IResult? problem) => problem switch
    {
        ProblemHttpResult p => p.ProblemDetails.Detail ?? p.ProblemDetails.Title ?? "the operation was refused",
        ValidationProblem v => v.ProblemDetails.Detail ?? string.Join("; ", v.ProblemDetails.Errors.SelectMany(e => e.Value.Select(m => $"{e.Key}: {m}"))),
        _ => "the operation was refused",
    };
}
