using Microsoft.AspNetCore.OpenApi;
using Microsoft.OpenApi;

namespace Trellis.Control.Admin;

/// <summary>What the generated document cannot know: its title and how callers authenticate.</summary>
internal static class AdminOpenApi
{
    public const string BearerScheme = "bearer";

    public static Task DescribeAsync(OpenApiDocument document, OpenApiDocumentTransformerContext context, CancellationToken cancellationToken)
    {
        document.Info = new OpenApiInfo
        {
            Title = "Trellis admin API",
            Version = AdminApi.DocumentName,
            Description = "Users, auth keys, nodes, routes and API keys of a Trellis control server. "
                + "Send 'Authorization: Bearer trellis-api-...' (create a key with `trellis apikeys create` on the server host, "
                + "where the CLI needs no key over the server's own Unix socket). Errors are {\"error\": \"...\"}.",
        };
        document.Components ??= new OpenApiComponents();
        document.Components.SecuritySchemes ??= new Dictionary<string, IOpenApiSecurityScheme>();
        document.Components.SecuritySchemes[BearerScheme] = new OpenApiSecurityScheme
        {
            Type = SecuritySchemeType.Http,
            Scheme = "bearer",
            Description = "An admin API key: trellis-api-{prefix}-{secret}",
        };
        document.Security = [new OpenApiSecurityRequirement { [new OpenApiSecuritySchemeReference(BearerScheme, document)] = [] }];
        return Task.CompletedTask;
    }
}
