using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Harness.Server.Http;

/// <summary>Declares the bearer scheme in the OpenAPI document so the API reference can send a token.</summary>
internal sealed class BearerSecurityTransformer : IOpenApiDocumentTransformer
{
    public Task TransformAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info.Title = "Harness API";
        document.Info.Description = "Operators send 'Authorization: Bearer <token>'; agents send their API key the same way or as X-Node-Auth.";
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes["bearer"] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An operator token, or an agent's API key on /api/nodes/*.",
        };
        document.Security ??= [];
        document.Security.Add(new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference("bearer", document)] = [] });
        return Task.CompletedTask;
    }
}
