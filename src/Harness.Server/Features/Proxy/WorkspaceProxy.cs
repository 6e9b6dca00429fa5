using System.Diagnostics;
using System.Net;
using Harness.Server.Data;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.EntityFrameworkCore;
using Yarp.ReverseProxy.Forwarder;

namespace Harness.Server.Features.Proxy;

/// <summary>
/// <c>/w/{workspace}/…</c>: forwards an operator's request (WebSockets included) to the running
/// workspace's upstream through YARP's forwarder. The operator's credentials stay here; the
/// workspace sees <c>X-Forwarded-Prefix: /w/{workspace}</c>. Each request counts as the workspace's activity.
/// </summary>
public static class WorkspaceProxy
{
    public const string Prefix = "/w";

    public static IServiceCollection AddWorkspaceProxy(this IServiceCollection services, IConfiguration configuration)
    {
        services.AddOptions<WorkspaceProxyOptions>().Bind(configuration.GetSection(WorkspaceProxyOptions.Section));
        services.AddHttpForwarder();
        services.AddSingleton(new HttpMessageInvoker(new SocketsHttpHandler
        {
            UseProxy = false,
            AllowAutoRedirect = false,
            AutomaticDecompression = DecompressionMethods.None,
            UseCookies = false,
            EnableMultipleHttp2Connections = true,
            ActivityHeadersPropagator = new ReverseProxyPropagator(DistributedContextPropagator.Current),
            ConnectTimeout = TimeSpan.FromSeconds(15),
        }));
        services.AddSingleton<WorkspaceActivity>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkspaceActivity>());
        return services;
    }

    public static IEndpointRouteBuilder MapWorkspaceProxy(this IEndpointRouteBuilder app)
    {
        var proxy = app.MapGroup(Prefix).RequireAuthorization(HarnessAuth.OperatorPolicy).ExcludeFromDescription();
        // Routing matches /w/x and /w/x/ alike: without the slash the workspace's relative links would
        // resolve against /w/, so that one is redirected; with it, it is the workspace's root.
        proxy.Map("/{workspace}", (string workspace, HttpContext context, HarnessDbContext db, IHttpForwarder forwarder,
            HttpMessageInvoker invoker, WorkspaceActivity activity) => context.Request.Path.Value!.EndsWith('/')
                ? ForwardAsync(workspace, null, context, db, forwarder, invoker, activity)
                : TypedResults.Redirect($"{Prefix}/{Uri.EscapeDataString(workspace)}/{context.Request.QueryString}").ExecuteAsync(context));
        proxy.Map("/{workspace}/{**rest}", ForwardAsync);
        return app;
    }

    private static async Task ForwardAsync(
        string workspace, string? rest, HttpContext context, HarnessDbContext db, IHttpForwarder forwarder,
        HttpMessageInvoker invoker, WorkspaceActivity activity)
    {
        var target = await FindAsync(db, workspace, context.RequestAborted);
        if (target is null)
        {
            await Problems.NotFound($"workspace: no workspace '{workspace}'").ExecuteAsync(context);
            return;
        }
        if (target.Upstream is null || target.Status != "running")
        {
            await Problems.Field(StatusCodes.Status409Conflict, "Conflict", "workspace",
                $"workspace '{target.Name}' is {target.Status}, not running; start it with POST /api/workspaces/{target.Id}/start").ExecuteAsync(context);
            return;
        }
        activity.Touch(target.Id);
        var transformer = new WorkspaceTransformer($"{Prefix}/{workspace}", "/" + (rest ?? ""));
        var error = await forwarder.SendAsync(context, target.Upstream, invoker, ForwarderRequestConfig.Empty, transformer);
        if (error != ForwarderError.None && !context.Response.HasStarted)
        {
            await Problems.Field(StatusCodes.Status502BadGateway, "Bad gateway", "workspace",
                $"workspace '{target.Name}' did not answer at its upstream ({error})").ExecuteAsync(context);
        }
    }

    private static Task<Target?> FindAsync(HarnessDbContext db, string workspace, CancellationToken cancellationToken)
    {
        var query = db.Workspaces.AsNoTracking();
        query = Guid.TryParse(workspace, out var id) ? query.Where(w => w.Id == id) : query.Where(w => w.Name == workspace);
        return query.Select(w => new Target(w.Id, w.Name, w.Status, w.Upstream)).SingleOrDefaultAsync(cancellationToken);
    }

    private sealed record Target(Guid Id, string Name, string Status, string? Upstream);

    /// <summary>Maps <c>/w/{workspace}/rest</c> to <c>{upstream}/rest</c> and keeps the operator's credentials out of the workspace.</summary>
    private sealed class WorkspaceTransformer(string prefix, string path) : HttpTransformer
    {
        public override async ValueTask TransformRequestAsync(
            HttpContext httpContext, HttpRequestMessage proxyRequest, string destinationPrefix, CancellationToken cancellationToken)
        {
            await base.TransformRequestAsync(httpContext, proxyRequest, destinationPrefix, cancellationToken);
            proxyRequest.RequestUri = RequestUtilities.MakeDestinationAddress(destinationPrefix, new PathString(path), httpContext.Request.QueryString);
            proxyRequest.Headers.Authorization = null;
            proxyRequest.Headers.Remove("Cookie");
            proxyRequest.Headers.Remove(Contracts.Routes.NodeAuthHeader);
            proxyRequest.Headers.Host = null;
            proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Prefix", prefix);
            proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Host", httpContext.Request.Host.Value);
            proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-Proto", httpContext.Request.Scheme);
            if (httpContext.Connection.RemoteIpAddress is { } remote)
            {
                proxyRequest.Headers.TryAddWithoutValidation("X-Forwarded-For", remote.ToString());
            }
        }
    }
}
