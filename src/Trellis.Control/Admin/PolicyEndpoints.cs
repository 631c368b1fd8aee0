using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Trellis.Control.AccessControl;
using Trellis.Control.Policy;

namespace Trellis.Control.Admin;

/// <summary>
/// The access policy: read it, replace it (compiled first; a refused one changes nothing), remove
/// it. The body of a PUT is the policy's HuJSON text itself, not JSON around it.
/// </summary>
internal static class PolicyEndpoints
{
    public const string SourceDatabase = "database";
    public const string SourceFile = "file";

    public static void Map(RouteGroupBuilder api, PolicyService policy)
    {
        var group = api.MapGroup("/policy").WithTags("Access policy");

        group.MapGet("", () =>
            {
                var current = policy.Current;
                return current.Text is null
                    ? AdminResults.Error(StatusCodes.Status404NotFound, policy.PolicyFile is { } file
                        ? $"the policy file {file} could not be read; the server log says why"
                        : "no access policy is set: every node can reach every other; set one with `trellis policy set FILE`")
                    : AdminResults.Json(ToDto(current), AdminJsonContext.Relaxed.PolicyDto);
            })
            .WithName("GetPolicy").WithSummary("The access policy in force, its text exactly as set")
            .Returns<PolicyDto>().Errors(404);

        group.MapPut("", async (HttpContext http) =>
            {
                if (FileManaged(policy) is { } managed)
                {
                    return managed;
                }

                var (text, invalid) = await ReadTextAsync(http).ConfigureAwait(false);
                if (invalid is not null)
                {
                    return invalid;
                }

                try
                {
                    var set = await policy.SetAsync(text!, AdminAuthentication.CallerOf(http), http.RequestAborted).ConfigureAwait(false);
                    return AdminResults.Json(ToDto(set), AdminJsonContext.Relaxed.PolicyDto);
                }
                catch (PolicyException e)
                {
                    return AdminResults.Error(StatusCodes.Status400BadRequest, $"policy refused, the previous one stays in force: {e.Message}");
                }
            })
            .WithName("SetPolicy").WithSummary("Replace the access policy (HuJSON text as the body); a refused policy changes nothing")
            .Returns<PolicyDto>().Errors(400, 409, 413);

        group.MapPost("/check", async (HttpContext http) =>
            {
                var (text, invalid) = await ReadTextAsync(http).ConfigureAwait(false);
                if (invalid is not null)
                {
                    return invalid;
                }

                try
                {
                    return AdminResults.Json(new PolicyCheckDto(policy.Check(text!)), AdminJsonContext.Relaxed.PolicyCheckDto);
                }
                catch (PolicyException e)
                {
                    return AdminResults.Error(StatusCodes.Status400BadRequest, $"policy refused: {e.Message}");
                }
            })
            .WithName("CheckPolicy").WithSummary("Compile a policy (HuJSON text as the body) and run its tests without putting it in force")
            .Returns<PolicyCheckDto>().Errors(400, 413);

        group.MapDelete("", async (HttpContext http) =>
            {
                if (FileManaged(policy) is { } managed)
                {
                    return managed;
                }

                return await policy.RemoveAsync(AdminAuthentication.CallerOf(http), http.RequestAborted).ConfigureAwait(false)
                    ? Results.NoContent()
                    : AdminResults.Error(StatusCodes.Status404NotFound, "no access policy is set");
            })
            .WithName("DeletePolicy").WithSummary("Remove the access policy: every node can reach every other again")
            .Produces(StatusCodes.Status204NoContent).Errors(404, 409);
    }

    /// <summary>The body as policy text: bounded, UTF-8, not blank.</summary>
    private static async Task<(string? Text, IResult? Error)> ReadTextAsync(HttpContext http)
    {
        var bytes = await RequestBodies.ReadBoundedAsync(http.Request.Body, http.RequestAborted, PolicyService.MaxPolicyBytes).ConfigureAwait(false);
        if (bytes is null)
        {
            return (null, AdminResults.Error(StatusCodes.Status413PayloadTooLarge, $"the policy is larger than {PolicyService.MaxPolicyBytes} bytes, the most a policy may have"));
        }

        string text;
        try
        {
            text = new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(bytes);
        }
        catch (DecoderFallbackException)
        {
            return (null, AdminResults.Error(StatusCodes.Status400BadRequest, "the policy is not UTF-8 text"));
        }

        return string.IsNullOrWhiteSpace(text)
            ? (null, AdminResults.Error(StatusCodes.Status400BadRequest, "the request body must be the policy's HuJSON text; to remove the policy, DELETE it"))
            : (text, null);
    }

    private static IResult? FileManaged(PolicyService policy) =>
        policy.PolicyFile is { } file
            ? AdminResults.Error(
                StatusCodes.Status409Conflict,
                $"this server reads its access policy from the file {file} (policy-file); edit that file instead, the server reloads it when it changes")
            : null;

    private static PolicyDto ToDto(PolicyInForce policy) => new(
        policy.Text!,
        policy.Origin == PolicyOrigin.File ? SourceFile : SourceDatabase,
        policy.Path,
        policy.UpdatedBy,
        policy.UpdatedAt,
        policy.Rules);
}
