using System.Diagnostics;
using Microsoft.Extensions.Configuration;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Harness.Agent;

/// <summary>
/// Traces: a span per device task (<see cref="Source"/>) and the agent's HTTP calls, exported over
/// OTLP when the standard <c>OTEL_EXPORTER_OTLP_ENDPOINT</c> is set; with it unset nothing is
/// registered. The calls a task makes to the server carry its trace (W3C <c>traceparent</c>).
/// </summary>
public static class AgentTelemetry
{
    public const string SourceName = "Harness.Agent";
    public const string ServiceName = "harness-agent";

    public static readonly ActivitySource Source = new(SourceName);

    public static IServiceCollection AddAgentTelemetry(this IServiceCollection services, IConfiguration configuration)
    {
        if (string.IsNullOrWhiteSpace(configuration["OTEL_EXPORTER_OTLP_ENDPOINT"]))
        {
            return services;
        }
        services.AddOpenTelemetry()
            .ConfigureResource(r => r.AddService(ServiceName))
            .WithTracing(t => t
                .AddSource(SourceName)
                .AddHttpClientInstrumentation()
                .AddOtlpExporter());
        return services;
    }
}
