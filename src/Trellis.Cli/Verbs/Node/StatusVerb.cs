using System.CommandLine;
using System.Globalization;
using Trellis.Cli.Verbs.Admin;
using Trellis.Core.Build;
using Trellis.Core.Control;
using Trellis.Node.LocalApi;

namespace Trellis.Cli.Verbs.Node;

/// <summary>`trellis status`: the node, its connection to the server, and each peer with its path.</summary>
internal static class StatusVerb
{
    public static Command Build()
    {
        var json = new Option<bool>("--json") { Description = "Print the daemon's JSON instead of a table." };
        var command = new Command("status", "Show this node's connection and its peers.") { json };
        command.SetNodeAction(NodeAction.SocketOption(), "status", async run =>
        {
            if (run.Parse.GetValue(json))
            {
                run.Output.WriteLine(await run.Client.StatusJsonAsync(run.CancellationToken).ConfigureAwait(false));
                return CommandLine.Success;
            }

            Write(await run.Client.StatusAsync(run.CancellationToken).ConfigureAwait(false), run.Output, TimeProvider.System.GetUtcNow());
            return CommandLine.Success;
        });
        return command;
    }

    private static void Write(StatusResponse status, TextWriter output, DateTimeOffset now)
    {
        // Versions: the server's as it said when the map stream opened, the daemon's own (it may predate
        // this command after an upgrade until it restarts), and each peer's in the table.
        var server = status.ServerVersion is { } serverVersion ? $"{status.Server}, server {serverVersion}" : status.Server;
        output.WriteLine(status.Server is null ? status.State : $"{status.State} ({server})");
        if (status.Self is { } self)
        {
            var daemon = status.Version is { } version ? $"  daemon {version}" : "";
            output.WriteLine($"this node: {self.Hostname}  {string.Join(", ", self.Addresses.Select(UpVerb.StripHostPrefix))}  {(self.Online ? "connected" : "not connected")}{daemon}");
            if (self.KeyExpiry is { } expiry)
            {
                output.WriteLine(KeyExpiryText.Describe(expiry, now));
            }

            if (self.HomeRelay is { } home)
            {
                output.WriteLine(self.RelayRegions.Count == 0 ? $"home relay: {home}" : $"home relay: {home} (also connected: {string.Join(", ", self.RelayRegions)})");
            }

            if (self.ExitNode is { } exit)
            {
                var lan = exit.AllowLanAccess ? ", LAN stays local" : "";
                output.WriteLine(exit.Problem is { } problem
                    ? $"exit node: {exit.Given} (unusable{lan}): {problem}"
                    : $"exit node: {exit.Hostname} ({(exit.Online ? "online" : "offline")}{lan})");
            }
        }

        if (status.AuthUrl is { } signIn)
        {
            output.WriteLine($"waiting for a sign-in at: {signIn}");
        }
        else if (status.ApproveHint is { } hint)
        {
            output.WriteLine($"waiting for approval: {hint}");
        }

        if (status.RenewUrl is { } renew)
        {
            output.WriteLine($"to renew this node's key, sign in at: {renew}");
        }
        else if (status.RenewHint is { } renewHint)
        {
            output.WriteLine($"renewing this node's key: {renewHint}");
        }

        if (status.Error is { } error)
        {
            output.WriteLine($"error: {error}");
        }

        if (status.DroppedByPolicy > 0)
        {
            output.WriteLine(string.Create(CultureInfo.InvariantCulture, $"dropped by policy: {status.DroppedByPolicy}"));
        }

        if (status.Peers.Count == 0)
        {
            return;
        }

        output.WriteLine();
        var table = new TextTable("HOSTNAME", "ADDRESSES", "ONLINE", "PATH", "VIA", "LAST HANDSHAKE", "RX", "TX", "DROPPED", "VERSION");
        foreach (var peer in status.Peers)
        {
            table.Add(
                peer.Hostname,
                string.Join(",", peer.Addresses.Select(UpVerb.StripHostPrefix)),
                AdminText.YesNo(peer.Online),
                PathText(peer),
                peer.Endpoint ?? peer.Relay ?? AdminText.None,
                AdminText.Time(peer.LastHandshake),
                Bytes(peer.RxBytes),
                Bytes(peer.TxBytes),
                peer.DroppedByPolicy.ToString(CultureInfo.InvariantCulture),
                NodeVersion.Display(peer.Version));
        }

        table.WriteTo(output);
    }

    /// <summary>A plain WireGuard peer of another node goes through that gateway, which may be gone.</summary>
    private static string PathText(StatusPeer peer) => peer switch
    {
        { Gateway: { } gateway, GatewayOnline: true } => $"via gateway {gateway}",
        { Gateway: { } gateway } => $"via gateway {gateway} (offline)",
        { PeerRelay: { } via } => $"{PathKind.PeerRelay} via {via}",
        _ => peer.Path,
    };

    private static string Bytes(long count)
    {
        string[] units = ["B", "KiB", "MiB", "GiB", "TiB"];
        double value = count;
        var unit = 0;
        while (value >= 1024 && unit < units.Length - 1)
        {
            value /= 1024;
            unit++;
        }

        return unit == 0 ? $"{count} B" : string.Create(CultureInfo.InvariantCulture, $"{value:0.0} {units[unit]}");
    }
}
