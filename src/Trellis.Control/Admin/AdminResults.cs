using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;
using Trellis.Control.Store;

namespace Trellis.Control.Admin;

/// <summary>How the admin API answers: JSON from <see cref="AdminJsonContext.Relaxed"/>, errors as {"error": "..."}.</summary>
internal static class AdminResults
{
    public static IResult Json<T>(T value, JsonTypeInfo<T> type, int status = StatusCodes.Status200OK) =>
        Results.Json(value, type, statusCode: status);

    public static IResult Error(int status, string message) =>
        Results.Json(new ErrorResponse(message), AdminJsonContext.Relaxed.ErrorResponse, statusCode: status);

    public static IResult Failure(StoreError error, string? message) => Error(
        error switch
        {
            StoreError.Invalid => StatusCodes.Status400BadRequest,
            StoreError.NotFound => StatusCodes.Status404NotFound,
            StoreError.Conflict or StoreError.InUse => StatusCodes.Status409Conflict,
            StoreError.Forbidden => StatusCodes.Status403Forbidden,
            _ => StatusCodes.Status500InternalServerError,
        },
        message ?? "the operation failed");

    public static IResult Failure(StoreResult result) => Failure(result.Error, result.Message);

    public static IResult Failure<T>(StoreResult<T> result) => Failure(result.Error, result.Message);

    /// <summary>Node ids in paths are positive integers; anything else is the caller's mistake, not a missing node.</summary>
    public static bool TryParseNodeId(string text, out long id, out IResult? error)
    {
        if (long.TryParse(text, System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out id) && id > 0)
        {
            error = null;
            return true;
        }

        error = Error(StatusCodes.Status400BadRequest, $"invalid node id '{text}': expected a positive number");
        return false;
    }
}
