using System.Globalization;
using Microsoft.Extensions.Logging;
using Trellis.Control.Store;
using Trellis.Core.Control;
using Trellis.Core.Keys;

namespace Trellis.Control.NodeProtocol;

/// <summary>
/// A plain WireGuard peer is online as its handshakes with its gateway show: the gateway reports
/// them, the store keeps only entries for plain peers of that gateway, and the peer goes offline
/// when its handshake grows old (<see cref="PlainPeerPresence.OnlineWindow"/>) or its gateway leaves.
/// </summary>
public sealed partial class ControlService
{
    /// <summary>A longer age says no more than this one (and would overflow a time span).</summary>
    private const long LongestAgeSeconds = 10L * 365 * 24 * 3600;

    /// <summary>A gateway's report: every entry for one of its own plain peers is stored and published; the others are named in the error.</summary>
    public async Task<ErrorMessage?> ReportPlainPeersAsync(Key machineKey, PlainPeerReport report)
    {
        ArgumentNullException.ThrowIfNull(report);
        if (report.Peers.Count > PlainPeerPresence.MaxPeersPerReport)
        {
            return Invalid($"a report of {report.Peers.Count} plain peers is over the limit of {PlainPeerPresence.MaxPeersPerReport}; none was taken");
        }

        var gateway = await store.GetNodeByMachineKeyAsync(machineKey).ConfigureAwait(false);
        var now = time.GetUtcNow();
        if (gateway is null || !IsInMesh(gateway, now))
        {
            return NotActive();
        }

        if (!gateway.WireGuardGateway)
        {
            return Invalid("this node is not a gateway for plain WireGuard peers, so it has none to report on");
        }

        var refused = new List<long>();
        foreach (var entry in report.Peers.DistinctBy(e => e.Id))
        {
            if (entry.AgeSeconds is < 0)
            {
                refused.Add(entry.Id);
                continue;
            }

            DateTimeOffset? handshake = entry.AgeSeconds is { } age ? now - TimeSpan.FromSeconds(Math.Min(age, LongestAgeSeconds)) : null;
            var stored = await store.SetPlainPeerPresenceAsync(entry.Id, gateway.Id, PlainPeerPresence.IsOnline(entry.AgeSeconds), handshake).ConfigureAwait(false);
            if (stored.Succeeded)
            {
                await PublishAsync(entry.Id).ConfigureAwait(false);
            }
            else
            {
                refused.Add(entry.Id);
            }
        }

        if (refused.Count == 0)
        {
            return null;
        }

        // Also what a deletion racing the report looks like, so Debug: the gateway logs the answer anyway.
        var ids = string.Join(", ", refused.Take(10).Select(id => id.ToString(CultureInfo.InvariantCulture))) + (refused.Count > 10 ? ", ..." : "");
        LogReportRefused(logger, gateway.Name, ids);
        return Invalid($"not taken: {refused.Count} entries (ids {ids}) are not plain peers of this gateway or have a negative age");
    }

    /// <summary>The gateway left the mesh or lost its connection: its plain peers cannot be reached, so they are offline.</summary>
    private async Task PlainPeersOfflineAsync(long gatewayId)
    {
        foreach (var id in await store.MarkPlainPeersOfflineAsync(gatewayId).ConfigureAwait(false))
        {
            await PublishAsync(id).ConfigureAwait(false);
        }
    }

    private static ErrorMessage Invalid(string message) => new() { Code = ControlErrorCodes.Invalid, Message = message };

    [LoggerMessage(Level = LogLevel.Debug, Message = "gateway {Gateway} reported on plain peers it does not serve (or with a negative age); ignored: {Ids}")]
    private static partial void LogReportRefused(ILogger logger, string gateway, string ids);
}
