using Trellis.Relay.Client;

namespace Trellis.Control.Tests.Server;

/// <summary>One packet from one relay client to another, checked for its source and bytes.</summary>
internal static class RelayExchange
{
    /// <param name="within">How long the packet may take (a hop over a replicas' mesh link may wait for the link).</param>
    public static async Task SendAsync(RelayClient from, RelayClient to, string text, TimeSpan within)
    {
        var payload = System.Text.Encoding.UTF8.GetBytes(text);
        Assert.True(await from.SendAsync(to.PublicKey, payload));
        using var timeout = new CancellationTokenSource(within);
        using var packet = await to.Packets.ReadAsync(timeout.Token);
        Assert.Equal(from.PublicKey, packet.Source);
        Assert.Equal(payload, packet.Data.ToArray());
    }
}
