namespace Trellis.Relay.Server;

/// <summary>A client connected at a mesh peer: the link that reaches it, and who sent to it from here.</summary>
internal sealed class MeshRoute(MeshPeerLink link)
{
    public MeshPeerLink Link { get; } = link;

    public RecentSenders Senders { get; } = new();
}
