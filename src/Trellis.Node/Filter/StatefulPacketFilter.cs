using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Core.Control;
using Trellis.WireGuard;

namespace Trellis.Node.Filter;

/// <summary>
/// The node's inbound packet filter in the WireGuard device: a packet from a peer reaches the TUN
/// when a rule of the current policy grants it, or when it answers a flow this host (or a subnet
/// behind it) opened. The compiled rules are swapped whole when the map brings a new filter; the
/// flow table outlives the swap, so connections in progress keep their replies.
/// </summary>
public sealed partial class StatefulPacketFilter : IInboundFilter
{
    private readonly FlowTable _flows;
    private readonly ILogger _logger;

    // replaced whole by Update; the packet threads read it once per packet
    private CompiledFilter _compiled = CompiledFilter.AllowAll;

    // touched only by Update's callers, one at a time (the engine's apply gate)
    private PacketFilter _applied = PacketFilter.AllowAll;

    public StatefulPacketFilter(TimeProvider time, ILogger? logger = null, int flowCapacity = FlowTable.DefaultCapacity)
    {
        _flows = new FlowTable(time, flowCapacity);
        _logger = logger ?? NullLogger.Instance;
    }

    /// <summary>Whether no policy is in force (every packet passes).</summary>
    public bool AllowsAll => Volatile.Read(ref _compiled).AllowsAll;

    /// <summary>Flows remembered for their replies.</summary>
    public int FlowCount => _flows.Count;

    /// <summary>
    /// Puts <paramref name="filter"/> in force from the next packet on (null: no policy, allow all)
    /// and returns (and logs) what could not be read in it. The same filter again costs nothing.
    /// </summary>
    public IReadOnlyList<string> Update(PacketFilter? filter)
    {
        filter ??= PacketFilter.AllowAll;
        if (ReferenceEquals(filter, _applied) || filter == _applied)
        {
            _applied = filter;
            return [];
        }

        var problems = new List<string>();
        var compiled = CompiledFilter.Compile(filter, problems);
        var wasAllowAll = _applied.AllowsAll;
        Volatile.Write(ref _compiled, compiled);
        _applied = filter;
        foreach (var problem in problems)
        {
            LogProblem(_logger, problem);
        }

        if (filter.AllowsAll != wasAllowAll)
        {
            if (filter.AllowsAll)
            {
                LogPolicyRemoved(_logger);
            }
            else
            {
                LogPolicyInForce(_logger, filter.Rules.Count);
            }
        }

        return problems;
    }

    /// <inheritdoc/>
    public void RecordOutbound(ReadOnlySpan<byte> packet)
    {
        // Recorded with or without a policy: when one arrives, replies to flows opened before it still pass.
        if (PacketHeaders.TryParse(packet, out var headers) == ParseResult.Parsed && headers.TryOutboundFlow(out var flow))
        {
            _flows.Record(flow);
        }
    }

    /// <inheritdoc/>
    public bool Allows(ReadOnlySpan<byte> packet)
    {
        var compiled = Volatile.Read(ref _compiled);
        if (compiled.AllowsAll)
        {
            return true;
        }

        switch (PacketHeaders.TryParse(packet, out var headers))
        {
            case ParseResult.LaterFragment:
                return true; // see PacketHeaders.MinLaterFragmentBlocks
            case ParseResult.Invalid:
                return false;
        }

        if (compiled.Allows(headers))
        {
            return true;
        }

        if (headers.Icmp == IcmpKind.Error && PacketHeaders.IsIcmp(headers.Protocol))
        {
            // An error about a packet this host sent: the quoted packet names the flow.
            var quoted = packet[Math.Min(packet.Length, headers.TransportOffset + IcmpTypes.HeaderSize)..];
            return PacketHeaders.TryReadQuotedFlow(quoted, headers.IsV6, out var erred) && _flows.Contains(erred);
        }

        return headers.TryReplyFlow(out var flow) && _flows.Contains(flow);
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "packet filter from the control server: {Problem}")]
    private static partial void LogProblem(ILogger logger, string problem);

    [LoggerMessage(Level = LogLevel.Information, Message = "access policy in force: packets from peers pass only when one of {Rules} rule(s) grants them or they answer this node's own flows")]
    private static partial void LogPolicyInForce(ILogger logger, int rules);

    [LoggerMessage(Level = LogLevel.Information, Message = "no access policy: every packet from a peer is let in")]
    private static partial void LogPolicyRemoved(ILogger logger);
}
