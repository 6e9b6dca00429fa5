using System.Net;

namespace Harness.Client;

/// <summary>
/// The server answered with an error; <see cref="Detail"/> is the problem+json detail when there was one,
/// and <see cref="Errors"/> lists every field error (<c>steps[3].params.package: required</c>) it named.
/// </summary>
public sealed class HarnessApiException(
    HttpStatusCode status, string? title, string? detail, IReadOnlyList<string>? errors = null, string? request = null)
    : Exception($"{(int)status} {title ?? status.ToString()}{(detail is null ? "" : $": {detail}")}")
{
    public HttpStatusCode Status { get; } = status;
    public string? Title { get; } = title;
    public string? Detail { get; } = detail;
    public IReadOnlyList<string> Errors { get; } = errors ?? [];

    /// <summary>The refused request, <c>POST /api/workflows</c>, when known.</summary>
    public string? Request { get; } = request;
}
