using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Trellis.Control.Admin;

/// <summary>
/// The outermost admin filter: a failure nobody expected becomes a logged 500 with a plain
/// message, never a stack trace in the response (the developer exception page included).
/// </summary>
internal sealed partial class AdminErrorFilter(ILogger logger) : IEndpointFilter
{
    public async ValueTask<object?> InvokeAsync(EndpointFilterInvocationContext context, EndpointFilterDelegate next)
    {
        var http = context.HttpContext;
        try
        {
            return await next(context).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
        {
            return Results.Empty; // the caller went away; nobody reads an answer
        }
        catch (BadHttpRequestException e)
        {
            // Kestrel's own verdicts on the request (a body too large, a connection cut mid-body).
            return AdminResults.Error(e.StatusCode, e.Message);
        }
        catch (Exception e)
        {
            LogFailure(logger, e, http.Request.Method, http.Request.Path.Value ?? string.Empty);
            return AdminResults.Error(StatusCodes.Status500InternalServerError, "internal server error; the server log has the details");
        }
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "admin {Method} {Path} failed")]
    private static partial void LogFailure(ILogger logger, Exception exception, string method, string path);
}
