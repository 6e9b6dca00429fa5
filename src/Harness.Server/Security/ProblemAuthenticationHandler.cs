using System.Text.Encodings.Web;
using Microsoft.AspNetCore.Authentication;
using Microsoft.Extensions.Options;

namespace Harness.Server.Security;

/// <summary>Shared by both schemes: challenges and refusals are problem+json that say what to send.</summary>
internal abstract class ProblemAuthenticationHandler(
    IOptionsMonitor<AuthenticationSchemeOptions> options,
    ILoggerFactory logger,
    UrlEncoder encoder,
    IProblemDetailsService problems) : AuthenticationHandler<AuthenticationSchemeOptions>(options, logger, encoder)
{
    protected abstract string ChallengeDetail { get; }

    protected static string? BearerToken(HttpRequest request)
    {
        var header = request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) ? header["Bearer ".Length..].Trim() : null;
    }

    /// <summary>problem+json even when the client asked for HTML (a browser opening an API URL).</summary>
    private async Task WriteAsync(ProblemDetailsContext context)
    {
        if (!await problems.TryWriteAsync(context))
        {
            await Response.WriteAsJsonAsync(context.ProblemDetails, (System.Text.Json.JsonSerializerOptions?)null, "application/problem+json");
        }
    }

    protected override async Task HandleChallengeAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status401Unauthorized;
        Response.Headers.WWWAuthenticate = "Bearer";
        await WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = 401,
                Title = "Unauthorized",
                Detail = ChallengeDetail,
                Extensions = { ["errors"] = new Dictionary<string, string[]> { ["authorization"] = [ChallengeDetail["authorization: ".Length..]] } },
            },
        });
    }

    protected override async Task HandleForbiddenAsync(AuthenticationProperties properties)
    {
        Response.StatusCode = StatusCodes.Status403Forbidden;
        await WriteAsync(new ProblemDetailsContext
        {
            HttpContext = Context,
            ProblemDetails =
            {
                Status = 403,
                Title = "Forbidden",
                Detail = "authorization: this credential may not perform this action",
                Extensions = { ["errors"] = new Dictionary<string, string[]> { ["authorization"] = ["this credential may not perform this action"] } },
            },
        });
    }
}
