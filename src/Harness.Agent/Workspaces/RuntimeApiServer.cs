using Harness.Contracts;
using Harness.Contracts.Runtime;
using Harness.Runtimes;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Hosting.Server;
using Microsoft.AspNetCore.Hosting.Server.Features;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Options;

namespace Harness.Agent.Workspaces;

/// <summary>
/// Serves the Runtime Agent API on <see cref="WorkspacesOptions.Listen"/>: a small web app of its own
/// inside the agent, sharing the agent's runtime, key and logging. Every route but the OpenAPI
/// document needs <c>Authorization: Bearer &lt;runtime key&gt;</c>.
/// </summary>
public sealed partial class RuntimeApiServer(
    IWorkspaceRuntime runtime,
    ArchiveTransfer transfer,
    RuntimeApiState state,
    IOptions<AgentOptions> agent,
    IOptions<WorkspacesOptions> options,
    ILoggerFactory loggers) : IHostedService, IAsyncDisposable
{
    private WebApplication? _app;

    public async Task StartAsync(CancellationToken cancellationToken)
    {
        var builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls(options.Value.Listen);
        builder.Logging.ClearProviders();
        builder.Services.AddSingleton(loggers);
        builder.Services.AddSingleton(typeof(ILogger<>), typeof(Logger<>));
        // The agent's host owns signals and shutdown; this app stops when the agent stops it.
        builder.Services.AddSingleton<IHostLifetime, PassiveLifetime>();
        builder.Services.AddSingleton(runtime);
        builder.Services.AddSingleton(transfer);
        builder.Services.AddSingleton(agent);
        builder.Services.AddSingleton(options);
        builder.Services.ConfigureHttpJsonOptions(o => HarnessJsonOptions.Configure(o.SerializerOptions));
        builder.Services.AddProblemDetails();
        builder.Services.AddOpenApi(o => o.AddDocumentTransformer<RuntimeApiDocument>());
        var app = builder.Build();
        app.UseStatusCodePages();
        app.Use(async (context, next) =>
        {
            if (context.Request.Path == RuntimeRoutes.OpenApiDocument || Authorized(context))
            {
                await next(context);
                return;
            }
            context.Response.Headers.WWWAuthenticate = "Bearer";
            await TypedResults.Problem(statusCode: StatusCodes.Status401Unauthorized, title: "Unauthorized",
                detail: state.Known
                    ? "Authorization: a valid runtime key is required (Bearer)"
                    : "Authorization: this agent has no runtime key yet; it receives one with its first heartbeat").ExecuteAsync(context);
        });
        app.MapOpenApi(RuntimeRoutes.OpenApiDocument);
        app.MapRuntimeApi();
        await app.StartAsync(cancellationToken);
        _app = app;
        var bound = app.Services.GetRequiredService<IServer>().Features.Get<IServerAddressesFeature>()!.Addresses.First();
        // The URL the server should call: the advertised one (a load balancer, a Service), else the bound address.
        state.Endpoint = new Uri(options.Value.AdvertiseUrl ?? bound);
        LogListening(loggers.CreateLogger<RuntimeApiServer>(), runtime.Name, bound, state.Endpoint);
    }

    private bool Authorized(HttpContext context)
    {
        var header = context.Request.Headers.Authorization.ToString();
        return header.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase) && state.Matches(header["Bearer ".Length..].Trim());
    }

    public async Task StopAsync(CancellationToken cancellationToken)
    {
        if (_app is not null)
        {
            await _app.StopAsync(cancellationToken);
        }
    }

    public async ValueTask DisposeAsync()
    {
        if (_app is not null)
        {
            await _app.DisposeAsync();
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Runtime Agent API ({Runtime}) listening on {Bound}; the server calls {Endpoint}")]
    private static partial void LogListening(ILogger logger, string runtime, string bound, Uri endpoint);
}
