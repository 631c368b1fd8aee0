using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.OpenApi;

namespace Trellis.Control.Admin;

/// <summary>OpenAPI descriptions for handlers that read their bodies themselves.</summary>
internal static class AdminEndpointMetadata
{
    /// <summary>
    /// Documents a JSON request body. Not through Accepts(): that metadata also makes routing refuse
    /// requests whose Content-Type differs, and an admin's `curl -d` deserves a JSON error, not a 415.
    /// </summary>
    public static RouteHandlerBuilder Body<T>(this RouteHandlerBuilder builder, bool optional = false)
        where T : notnull => builder.AddOpenApiOperationTransformer(async (operation, context, ct) =>
        {
            var schema = await context.GetOrCreateSchemaAsync(typeof(T), null, ct).ConfigureAwait(false);
            operation.RequestBody = new OpenApiRequestBody
            {
                Required = !optional,
                Content = new Dictionary<string, OpenApiMediaType> { ["application/json"] = new() { Schema = schema } },
            };
        });

    public static RouteHandlerBuilder Returns<T>(this RouteHandlerBuilder builder, int status = StatusCodes.Status200OK)
        where T : notnull => builder.Produces<T>(status, "application/json");

    public static RouteHandlerBuilder Errors(this RouteHandlerBuilder builder, params int[] statuses)
    {
        foreach (var status in statuses)
        {
            builder.Produces<ErrorResponse>(status, "application/json");
        }

        return builder;
    }
}
