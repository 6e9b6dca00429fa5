using System.Security.Claims;
using Harness.Server.Console.Components;
using Harness.Server.Data;
using Harness.Server.Features.Artifacts;
using Harness.Server.Security;
using Microsoft.AspNetCore.Antiforgery;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Authentication.Cookies;
using Microsoft.AspNetCore.Routing.Matching;
using Microsoft.EntityFrameworkCore;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.FileProviders;

namespace Harness.Server.Console;

/// <summary>
/// The web console (docs/console.md): Blazor components rendered on the server, signed in with an
/// operator token that becomes an HttpOnly cookie. Pages call the same feature services as the API.
/// </summary>
public static class ConsoleHost
{
    public const string SignInPath = "/signin";
    public const string SignOutPath = "/signout";
    public const string StylesheetPath = "/console.css";
    public const string ArtifactsPath = "/console/artifacts";
    public const string CookieName = "harness_console";

    public static WebApplicationBuilder AddHarnessConsole(this WebApplicationBuilder builder)
    {
        // blazor.web.js is a static web asset of the framework package: from a build output (./harness,
        // tests) it is found through the runtime manifest, which only Development loads by default.
        // A published harness keeps them in wwwroot next to itself, and may be started from any folder.
        var published = Path.Combine(AppContext.BaseDirectory, "wwwroot");
        if ((string.IsNullOrEmpty(builder.Environment.WebRootPath) || !Directory.Exists(builder.Environment.WebRootPath)) && Directory.Exists(published))
        {
            builder.Environment.WebRootPath = published;
            builder.Environment.WebRootFileProvider = new PhysicalFileProvider(published);
        }
        builder.WebHost.UseStaticWebAssets();
        var services = builder.Services;
        services.AddRazorComponents().AddInteractiveServerComponents();
        services.AddCascadingAuthenticationState();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<MatcherPolicy, ConsolePageMatcherPolicy>());
        services.AddAuthentication().AddCookie(HarnessAuth.ConsoleScheme, o =>
        {
            o.LoginPath = SignInPath;
            o.LogoutPath = SignOutPath;
            o.AccessDeniedPath = SignInPath;
            o.ReturnUrlParameter = "returnUrl";
            o.Cookie.Name = CookieName;
            o.Cookie.HttpOnly = true;
            o.Cookie.SameSite = SameSiteMode.Strict;
            o.Cookie.SecurePolicy = CookieSecurePolicy.SameAsRequest;
            o.ExpireTimeSpan = TimeSpan.FromHours(8);
            o.SlidingExpiration = true;
        });
        return builder;
    }

    /// <summary>The console's middleware; goes after authentication and authorization.</summary>
    public static WebApplication UseHarnessConsole(this WebApplication app)
    {
        // The circuit's hub carries every interactive page: only a signed-in operator may open one.
        app.UseWhen(c => c.Request.Path.StartsWithSegments("/_blazor"), branch => branch.Use(async (context, next) =>
        {
            var result = await context.AuthenticateAsync(HarnessAuth.ConsoleScheme);
            if (!result.Succeeded)
            {
                context.Response.StatusCode = StatusCodes.Status401Unauthorized;
                return;
            }
            context.User = result.Principal;
            await next(context);
        }));
        app.UseAntiforgery();
        return app;
    }

    public static WebApplication MapHarnessConsole(this WebApplication app)
    {

        var manifest = Path.Combine(AppContext.BaseDirectory, $"{app.Environment.ApplicationName}.staticwebassets.endpoints.json");
        if (File.Exists(manifest))
        {
            app.MapStaticAssets(manifest);
        }
        app.MapRazorComponents<App>()
            .AddInteractiveServerRenderMode()
            .Add(e => e.Metadata.Add(ConsolePageMetadata.Instance));

        app.MapGet(StylesheetPath, () => TypedResults.Text(ConsoleStyles.Css, "text/css; charset=utf-8"))
            .ExcludeFromDescription().AllowAnonymous();
        app.MapPost(SignOutPath, SignOutAsync).ExcludeFromDescription().AllowAnonymous();
        app.MapGet($"{ArtifactsPath}/{{id:guid}}", ArtifactAsync).ExcludeFromDescription()
            .RequireAuthorization(HarnessAuth.ConsolePolicy);
        return app;
    }

    /// <summary>Signs an operator in: the caller has checked the token with <see cref="OperatorTokenCheck"/>.</summary>
    public static Task SignInAsync(HttpContext context, OperatorIdentity identity) =>
        context.SignInAsync(HarnessAuth.ConsoleScheme, new ClaimsPrincipal(new ClaimsIdentity(
            [new Claim(ClaimTypes.Name, identity.Name), new Claim(HarnessAuth.RoleClaim, identity.Role)],
            HarnessAuth.ConsoleScheme)));

    private static async Task<IResult> SignOutAsync(HttpContext context, IAntiforgery antiforgery)
    {
        // The form's antiforgery token is bound to the signed-in operator: validate it as them.
        if ((await context.AuthenticateAsync(HarnessAuth.ConsoleScheme)).Principal is { } user)
        {
            context.User = user;
        }
        if (!await antiforgery.IsRequestValidAsync(context))
        {
            return TypedResults.BadRequest();
        }
        await context.SignOutAsync(HarnessAuth.ConsoleScheme);
        return TypedResults.Redirect(SignInPath);
    }

    /// <summary>Screenshots and logs for the run monitor, behind the console's cookie rather than a bearer token.</summary>
    private static async Task<IResult> ArtifactAsync(Guid id, HarnessDbContext db, IArtifactStore store, CancellationToken cancellationToken)
    {
        var artifact = await db.Artifacts.AsNoTracking().SingleOrDefaultAsync(a => a.Id == id, cancellationToken);
        if (artifact is null)
        {
            return TypedResults.NotFound();
        }
        var stream = await store.OpenReadAsync(artifact.StoragePath, cancellationToken);
        return stream is null
            ? TypedResults.NotFound()
            : TypedResults.Stream(stream, artifact.ContentType ?? "application/octet-stream");
    }

    /// <summary>Only local paths: a return URL never sends a signed-in operator to another site.</summary>
    public static string SafeReturnUrl(string? returnUrl) =>
        returnUrl is { Length: > 0 } url && url[0] == '/' && !url.StartsWith("//", StringComparison.Ordinal) && !url.StartsWith("/\\", StringComparison.Ordinal)
            ? url
            : "/";
}
