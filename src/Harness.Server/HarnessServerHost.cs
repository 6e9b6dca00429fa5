using System.Text.Json;
using Harness.Contracts;
using Harness.Contracts.Tokens;
using Harness.Server.Console;
using Harness.Server.Data;
using Harness.Server.Features.Agents;
using Harness.Server.Features.Artifacts;
using Harness.Server.Features.Callbacks;
using Harness.Server.Features.Dashboard;
using Harness.Server.Features.Devices;
using Harness.Server.Features.Dispatch;
using Harness.Server.Features.Health;
using Harness.Server.Features.Jobs;
using Harness.Server.Features.Metrics;
using Harness.Server.Features.Nodes;
using Harness.Server.Features.Playbooks;
using Harness.Server.Features.Proxy;
using Harness.Server.Features.Runs;
using Harness.Server.Features.Scans;
using Harness.Server.Features.Tokens;
using Harness.Server.Features.Workflows;
using Harness.Server.Features.Workspaces;
using Harness.Server.Http;
using Harness.Server.Security;
using Microsoft.AspNetCore.Authentication;
using Microsoft.AspNetCore.Http.Json;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Scalar.AspNetCore;

namespace Harness.Server;

/// <summary>How the <c>harness</c> executable (and tests) build, prepare and run the control plane.</summary>
public static class HarnessServerHost
{
    /// <summary>Builds the server. <paramref name="settings"/> lets hosts and tests add configuration and replace services.</summary>
    public static WebApplication Build(ServerHostSettings settings)
    {
        var builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = settings.Args });
        builder.Configuration.AddInMemoryCollection(EnvironmentAliases.Read());
        builder.Configuration.AddInMemoryCollection(settings.Configuration);
        if (settings.Urls is not null)
        {
            builder.WebHost.UseUrls(settings.Urls);
        }
        settings.ConfigureLogging(builder.Logging);
        // YARP logs every proxied request at Information; the proxy reports its own failures.
        builder.Logging.AddFilter("Yarp", LogLevel.Warning);
        builder.AddHarnessServer();
        settings.ConfigureServices?.Invoke(builder.Services);

        var app = builder.Build();
        app.UseHarnessServer();
        return app;
    }

    /// <summary>Migrates (unless disabled) and makes sure an admin credential exists.</summary>
    /// <returns>A newly generated admin token to print once, or null.</returns>
    public static async Task<string?> PrepareAsync(WebApplication app, CancellationToken cancellationToken)
    {
        var options = app.Services.GetRequiredService<IOptions<HarnessServerOptions>>().Value;
        if (options.MigrateOnStart)
        {
            await app.Services.GetRequiredService<DatabaseMigrator>().MigrateAsync(cancellationToken);
        }
        return await app.Services.GetRequiredService<AdminTokenBootstrap>().EnsureAsync(cancellationToken);
    }

    public static WebApplicationBuilder AddHarnessServer(this WebApplicationBuilder builder)
    {
        var services = builder.Services;
        var section = builder.Configuration.GetSection(HarnessServerOptions.Section);
        services.AddOptions<HarnessServerOptions>().Bind(section).ValidateOnStart();
        services.TryAddEnumerable(ServiceDescriptor.Singleton<IValidateOptions<HarnessServerOptions>, HarnessServerOptionsValidator>());

        // The database provider decides which context type is registered, so it is read at build time.
        var database = section.GetSection("Database").Get<DatabaseOptions>() ?? new DatabaseOptions();
        services.AddHarnessStorage(database);

        services.TryAddSingleton(TimeProvider.System);
        services.AddMetrics();
        services.TryAddSingleton<HarnessMetrics>();
        services.TryAddSingleton<MetricsCollector>();
        services.AddServerTelemetry(builder.Configuration);
        services.TryAddSingleton<AdminTokenBootstrap>();
        services.TryAddScoped<OperatorTokenCheck>();
        services.TryAddScoped<AgentRegistry>();
        services.TryAddScoped<HeartbeatHandler>();
        services.TryAddSingleton<InventoryMemo>();
        services.TryAddScoped<RunFactory>();
        services.TryAddScoped<Dispatcher>();
        services.TryAddScoped<CallbackHandler>();
        services.TryAddSingleton<CallbackGroups>();
        services.AddHostedService(sp => sp.GetRequiredService<CallbackGroups>());
        services.TryAddSingleton<ClaimGroups>();
        services.AddHostedService(sp => sp.GetRequiredService<ClaimGroups>());
        services.TryAddSingleton<Security.AgentKeyCache>();
        services.TryAddSingleton<Features.Devices.FleetSnapshot>();
        services.TryAddSingleton<DispatchSignal>();
        services.TryAddSingleton<DispatchWork>();
        services.TryAddSingleton<IArtifactStore, FileArtifactStore>();
        services.TryAddSingleton<LeaseSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<LeaseSweeper>());
        services.TryAddSingleton<RunCounterFolder>();
        services.AddHostedService(sp => sp.GetRequiredService<RunCounterFolder>());
        services.TryAddSingleton<RuntimeKeys>();
        services.TryAddSingleton<RuntimeAgents>();
        services.AddHttpClient(RuntimeAgents.HttpClientName)
            .ConfigureHttpClient((sp, http) => RuntimeAgents.Configure(http, sp.GetRequiredService<IOptions<HarnessServerOptions>>()));
        services.TryAddScoped<WorkspaceService>();
        services.TryAddSingleton<JobSecrets>();
        services.TryAddScoped<SandboxJobService>();
        services.TryAddSingleton<JobSweeper>();
        services.AddHostedService(sp => sp.GetRequiredService<JobSweeper>());
        services.TryAddSingleton<AgentHealthChecker>();
        services.AddHostedService(sp => sp.GetRequiredService<AgentHealthChecker>());
        services.TryAddSingleton<WorkspaceReconciler>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkspaceReconciler>());
        services.TryAddSingleton<WorkspaceIdleStopper>();
        services.AddHostedService(sp => sp.GetRequiredService<WorkspaceIdleStopper>());
        services.AddWorkspaceProxy(builder.Configuration);
        if (database.Provider == DatabaseOptions.Postgres)
        {
            services.AddHostedService<PostgresDispatchNotifier>();
        }

        services.AddOptions<HostOptions>().Configure<IOptions<HarnessServerOptions>>(
            (host, harness) => host.ShutdownTimeout = TimeSpan.FromSeconds(harness.Value.ShutdownTimeoutSec));
        services.AddOptions<KestrelServerOptions>().Configure<IOptions<HarnessServerOptions>>(
            (kestrel, harness) =>
            {
                kestrel.Limits.MaxRequestBodySize = harness.Value.MaxRequestBodyBytes;
                kestrel.AddServerHeader = false;
            });
        services.ConfigureHttpJsonOptions(o => ConfigureJson(o.SerializerOptions));
        services.Configure<RouteHandlerOptions>(o => o.ThrowOnBadRequest = true);
        services.AddProblemDetails(o => o.CustomizeProblemDetails = ProblemDetailsDefaults.Customize);
        services.AddExceptionHandler<BadRequestExceptionHandler>();

        services.AddAuthentication()
            .AddScheme<AuthenticationSchemeOptions, OperatorAuthenticationHandler>(HarnessAuth.OperatorScheme, null)
            .AddScheme<AuthenticationSchemeOptions, AgentAuthenticationHandler>(HarnessAuth.AgentScheme, null);
        services.AddAuthorizationBuilder()
            .AddPolicy(HarnessAuth.OperatorPolicy, p => p.AddAuthenticationSchemes(HarnessAuth.OperatorScheme).RequireAuthenticatedUser())
            .AddPolicy(HarnessAuth.AdminPolicy, p => p.AddAuthenticationSchemes(HarnessAuth.OperatorScheme).RequireClaim(HarnessAuth.RoleClaim, OperatorRoles.Admin))
            .AddPolicy(HarnessAuth.AgentPolicy, p => p.AddAuthenticationSchemes(HarnessAuth.AgentScheme).RequireAuthenticatedUser())
            .AddPolicy(HarnessAuth.ConsolePolicy, p => p.AddAuthenticationSchemes(HarnessAuth.ConsoleScheme).RequireAuthenticatedUser().RequireClaim(HarnessAuth.RoleClaim));
        builder.AddHarnessConsole();

        services.AddOpenApi(o => o.AddDocumentTransformer<BearerSecurityTransformer>());
        return builder;
    }

    public static WebApplication UseHarnessServer(this WebApplication app)
    {
        // Listening starts before the first request, so every request is counted.
        app.Services.GetRequiredService<MetricsCollector>();
        app.UseExceptionHandler();
        app.UseStatusCodePages();
        app.UseAuthentication();
        app.UseAuthorization();
        app.UseHarnessConsole();

        app.MapHealthApi();
        app.MapMetricsApi();
        app.MapJobsApi();
        app.MapNodeJobsApi();
        app.MapAgentsApi();
        app.MapNodesApi();
        app.MapDevicesApi();
        app.MapTokensApi();
        app.MapWorkflowsApi();
        app.MapCommandAssetsApi();
        app.MapPlaybooksApi();
        app.MapRunsApi();
        app.MapDispatchApi();
        app.MapCallbacksApi();
        app.MapArtifactsApi();
        app.MapScansApi();
        app.MapDashboardApi();
        app.MapWorkspacesApi();
        app.MapWorkspaceArchivesApi();
        app.MapWorkspaceProxy();

        app.MapOpenApi(Routes.OpenApiDocument).AllowAnonymous();
        app.MapScalarApiReference(Routes.ApiReference, o => o
            .WithTitle("Harness API")
            .WithOpenApiRoutePattern(Routes.OpenApiDocument)).AllowAnonymous();
        // The console takes "/" (its dashboard); the API reference keeps its own route.
        app.MapHarnessConsole();
        return app;
    }

    public static void ConfigureJson(JsonSerializerOptions options) => HarnessJsonOptions.Configure(options);
}
