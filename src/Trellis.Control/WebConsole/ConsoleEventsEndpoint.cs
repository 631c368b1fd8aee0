using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;
using Trellis.Control.Admin;
using Trellis.Control.Store;

namespace Trellis.Control.WebConsole;

/// <summary>
/// GET /admin/events: the machines page's server-sent events (<see cref="ConsoleLiveFeed"/>). The
/// session cookie is required as for every read; a member's stream carries only their own devices.
/// The stream ends when the session does (checked at each heartbeat, with its API key if it was
/// opened with one), when the client falls too
/// far behind, or when the server stops.
/// </summary>
public static partial class ConsoleEventsEndpoint
{
    public const string Path = ConsoleEndpoints.Path + "/events";

    public static void Map(WebApplication app, ConsoleLiveFeed feed, ConsoleSessions sessions, ControlStore store, ILogger logger)
    {
        // Open streams would hold the server's shutdown for its whole grace period.
        app.Lifetime.ApplicationStopping.Register(feed.Dispose);
        app.MapGet(Path, async (HttpContext http) =>
            {
                var cookie = ConsoleCookie.Read(http.Request);
                var session = sessions.Find(cookie);
                if (session is null)
                {
                    await AdminResults.Error(StatusCodes.Status401Unauthorized, "not signed in").ExecuteAsync(http).ConfigureAwait(false);
                    return;
                }

                IEnumerable<long> own = [];
                if (!session.IsAdmin)
                {
                    var listed = await store.ListNodesAsync(session.UserName, http.RequestAborted).ConfigureAwait(false);
                    own = listed.Value?.Select(n => n.Id) ?? [];
                }

                var subscriber = feed.Subscribe(session.IsAdmin ? null : session.UserName, own);
                try
                {
                    await StreamAsync(http, subscriber, sessions, store, cookie).ConfigureAwait(false);
                }
                catch (OperationCanceledException) when (http.RequestAborted.IsCancellationRequested)
                {
                    // the browser went away
                }
                finally
                {
                    feed.Unsubscribe(subscriber);
                }

                if (subscriber.Dropped)
                {
                    LogDropped(logger, session.Caller, ConsoleLiveFeed.QueueCapacity);
                }
            })
            .ExcludeFromDescription();
    }

    private static async Task StreamAsync(HttpContext http, ConsoleFeedSubscriber subscriber, ConsoleSessions sessions, ControlStore store, string? cookie)
    {
        var response = http.Response;
        response.ContentType = "text/event-stream; charset=utf-8";
        response.Headers.CacheControl = "no-store";

        // Proxies that buffer answers (nginx) pass this one through as it is written.
        response.Headers["X-Accel-Buffering"] = "no";
        var body = response.Body;
        await body.WriteAsync(ConsoleLiveFeed.Ready, http.RequestAborted).ConfigureAwait(false);
        await body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        var frames = subscriber.Frames;
        while (await frames.WaitToReadAsync(http.RequestAborted).ConfigureAwait(false))
        {
            while (frames.TryRead(out var frame))
            {
                if (ReferenceEquals(frame, ConsoleLiveFeed.Heartbeat)
                    && (sessions.Find(cookie) is not { } session || !await ConsoleKeySignIn.StillValidAsync(session, store, http.RequestAborted).ConfigureAwait(false)))
                {
                    return;
                }

                await body.WriteAsync(frame, http.RequestAborted).ConfigureAwait(false);
            }

            await body.FlushAsync(http.RequestAborted).ConfigureAwait(false);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "console: the live stream of {Caller} fell {Capacity} events behind and was dropped (the page reconnects)")]
    private static partial void LogDropped(ILogger logger, string caller, int capacity);
}
