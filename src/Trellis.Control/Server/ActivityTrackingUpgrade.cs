using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Http.Features;
using Trellis.Control.NodeProtocol;

namespace Trellis.Control.Server;

/// <summary>
/// Puts an <see cref="ActivityStream"/> under the WebSocket of a /control request, by wrapping the
/// HTTP/1.1 upgrade and the HTTP/2 extended CONNECT the WebSocket middleware accepts through: the
/// idle timeout must see the node's pings, which the WebSocket answers without surfacing them.
/// Must run before UseWebSockets, which captures the features when a request arrives.
/// </summary>
internal static class ActivityTrackingUpgrade
{
    public static ReceiveActivity Install(HttpContext context, TimeProvider time)
    {
        var activity = new ReceiveActivity(time);
        if (context.Features.Get<IHttpUpgradeFeature>() is { } upgrade)
        {
            context.Features.Set<IHttpUpgradeFeature>(new TrackedUpgrade(upgrade, activity));
        }

        if (context.Features.Get<IHttpExtendedConnectFeature>() is { } connect)
        {
            context.Features.Set<IHttpExtendedConnectFeature>(new TrackedConnect(connect, activity));
        }

        context.Features.Set(activity);
        return activity;
    }

    private sealed class TrackedUpgrade(IHttpUpgradeFeature inner, ReceiveActivity activity) : IHttpUpgradeFeature
    {
        public bool IsUpgradableRequest => inner.IsUpgradableRequest;

        public async Task<Stream> UpgradeAsync() => new ActivityStream(await inner.UpgradeAsync().ConfigureAwait(false), activity);
    }

    private sealed class TrackedConnect(IHttpExtendedConnectFeature inner, ReceiveActivity activity) : IHttpExtendedConnectFeature
    {
        public bool IsExtendedConnect => inner.IsExtendedConnect;

        public string? Protocol => inner.Protocol;

        public async ValueTask<Stream> AcceptAsync() => new ActivityStream(await inner.AcceptAsync().ConfigureAwait(false), activity);
    }
}
