using Microsoft.AspNetCore.Routing.Matching;

namespace Harness.Server.Console;

/// <summary>Marks the console's page endpoints.</summary>
public sealed class ConsolePageMetadata
{
    public static ConsolePageMetadata Instance { get; } = new();
}

/// <summary>
/// Some console pages share a path with the API (<c>GET /jobs</c> is seed 000's JSON listing). When both
/// match, a browser asking for HTML without a bearer token gets the page; every other client gets the API.
/// </summary>
internal sealed class ConsolePageMatcherPolicy : MatcherPolicy, IEndpointSelectorPolicy
{
    public override int Order => 0;

    public bool AppliesToEndpoints(IReadOnlyList<Endpoint> endpoints) =>
        endpoints.Any(IsPage) && endpoints.Any(e => !IsPage(e));

    public Task ApplyAsync(HttpContext httpContext, CandidateSet candidates)
    {
        var pages = 0;
        var others = 0;
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i))
            {
                _ = IsPage(candidates[i].Endpoint) ? pages++ : others++;
            }
        }
        if (pages == 0 || others == 0)
        {
            return Task.CompletedTask;
        }
        var wantsPage = WantsPage(httpContext.Request);
        for (var i = 0; i < candidates.Count; i++)
        {
            if (candidates.IsValidCandidate(i) && IsPage(candidates[i].Endpoint) != wantsPage)
            {
                candidates.SetValidity(i, false);
            }
        }
        return Task.CompletedTask;
    }

    internal static bool WantsPage(HttpRequest request)
    {
        if (request.Headers.Authorization.Count > 0)
        {
            return false;
        }
        foreach (var accept in request.GetTypedHeaders().Accept)
        {
            if (accept.MediaType.Equals("text/html", StringComparison.OrdinalIgnoreCase) && accept.Quality is null or > 0)
            {
                return true;
            }
        }
        return false;
    }

    private static bool IsPage(Endpoint? endpoint) => endpoint?.Metadata.GetMetadata<ConsolePageMetadata>() is not null;
}
