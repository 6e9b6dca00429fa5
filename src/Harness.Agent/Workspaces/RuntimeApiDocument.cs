using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Harness.Agent.Workspaces;

/// <summary>
/// Shapes the Runtime Agent API's OpenAPI document into the contract committed as
/// docs/runtime-agent-api.json: no server address (every agent has its own) and the bearer runtime key.
/// </summary>
internal sealed class RuntimeApiDocument : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Harness Runtime Agent API";
        document.Info.Description =
            "Served by every workspace agent (docker, kubernetes, fake). The server calls it with 'Authorization: Bearer <runtime key>', " +
            "the key it derives for the agent and hands over in heartbeat responses.";
        document.Servers = [];
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["runtime_key"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "The agent's runtime key, as the server received it in the agent's heartbeat response.",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("runtime_key", document)] = [] });
        return Task.CompletedTask;
    }
}
