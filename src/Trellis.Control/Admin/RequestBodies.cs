using System.Text.Json;
using System.Text.Json.Serialization.Metadata;
using Microsoft.AspNetCore.Http;

namespace Trellis.Control.Admin;

/// <summary>
/// Reads admin request bodies by hand rather than through minimal-API binding, so that every
/// malformed body gets a 400 with a message instead of the framework's empty (or, in
/// development, stack-traced) answer.
/// </summary>
internal static class RequestBodies
{
    /// <summary>Admin requests are a few names and prefixes; the route list cap fits well inside.</summary>
    public const int MaxBytes = 256 * 1024;

    /// <summary>The body as <typeparamref name="T"/>; an empty body is <paramref name="empty"/> when given, else an error.</summary>
    public static async Task<(T? Value, IResult? Error)> ReadAsync<T>(HttpRequest request, JsonTypeInfo<T> type, T? empty = null)
        where T : class
    {
        var bytes = await ReadBoundedAsync(request.Body, request.HttpContext.RequestAborted).ConfigureAwait(false);
        if (bytes is null)
        {
            return (null, AdminResults.Error(StatusCodes.Status413PayloadTooLarge, $"the request body is larger than {MaxBytes} bytes"));
        }

        if (bytes.AsSpan().Trim(" \t\r\n"u8).IsEmpty)
        {
            return empty is not null ? (empty, null) : (null, AdminResults.Error(StatusCodes.Status400BadRequest, "a JSON object is required in the request body"));
        }

        try
        {
            var value = JsonSerializer.Deserialize(bytes, type);
            return value is null
                ? (null, AdminResults.Error(StatusCodes.Status400BadRequest, "a JSON object is required in the request body"))
                : (value, null);
        }
        catch (JsonException e)
        {
            return (null, AdminResults.Error(StatusCodes.Status400BadRequest, $"invalid JSON: {e.Message}"));
        }
    }

    /// <summary>The raw body, or null when it is longer than <paramref name="maxBytes"/> (read no further).</summary>
    public static async Task<byte[]?> ReadBoundedAsync(Stream body, CancellationToken ct, int maxBytes = MaxBytes)
    {
        using var buffer = new MemoryStream();
        var chunk = new byte[16 * 1024];
        int read;
        while ((read = await body.ReadAsync(chunk, ct).ConfigureAwait(false)) > 0)
        {
            if (buffer.Length + read > maxBytes)
            {
                return null;
            }

            buffer.Write(chunk, 0, read);
        }

        return buffer.ToArray();
    }
}
