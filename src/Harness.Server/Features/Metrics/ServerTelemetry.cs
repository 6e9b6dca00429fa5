using System.Diagnostics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Harness.Server.Features.Metrics;

/// <summary>
/// Traces: the server's own spans (<see cref="Source"/>) plus ASP.NET Core and HttpClient, exported
/// over OTLP when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; with it unset nothing is
/// registered. W3C <c>traceparent</c> flows both ways without it: an agent's calls carry its task's
/// trace into the server, and the server's calls to an agent's Runtime API carry the request's.
/// </summary>
public static class ServerTelemetry
{
    public const string SourceName = "Harness.Server";
    public const string ServiceName = "harness-server";

    public static readonly ActivitySource Source = new(SourceName);

    public static IServiceCollection AddServerTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return services;
        }
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName))
            .WithTracing(t => t
                .AddSource(SourceName)
                .AddAspNetCoreInstrumentation()
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        return services;
    }
}
