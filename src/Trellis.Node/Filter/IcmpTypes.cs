namespace Trellis.Node.Filter;

/// <summary>The ICMP and ICMPv6 message types the filter tells apart: echo for flows, errors as replies.</summary>
internal static class IcmpTypes
{
    public const byte V4EchoReply = 0;
    public const byte V4DestinationUnreachable = 3;
    public const byte V4EchoRequest = 8;
    public const byte V4TimeExceeded = 11;
    public const byte V4ParameterProblem = 12;

    public const byte V6DestinationUnreachable = 1;
    public const byte V6PacketTooBig = 2;
    public const byte V6TimeExceeded = 3;
    public const byte V6ParameterProblem = 4;
    public const byte V6EchoRequest = 128;
    public const byte V6EchoReply = 129;

    /// <summary>Type, code, checksum, then the echo identifier and sequence (or 4 unused bytes before an error's quoted packet).</summary>
    public const int HeaderSize = 8;

    public static IcmpKind Classify(bool isV6, byte type) => isV6
        ? type switch
        {
            V6EchoRequest => IcmpKind.EchoRequest,
            V6EchoReply => IcmpKind.EchoReply,
            V6DestinationUnreachable or V6PacketTooBig or V6TimeExceeded or V6ParameterProblem => IcmpKind.Error,
            _ => IcmpKind.Other,
        }
        : type switch
        {
            V4EchoRequest => IcmpKind.EchoRequest,
            V4EchoReply => IcmpKind.EchoReply,
            V4DestinationUnreachable or V4TimeExceeded or V4ParameterProblem => IcmpKind.Error,
            _ => IcmpKind.Other,
        };
}

/// <summary>What an ICMP message means to the flow table.</summary>
internal enum IcmpKind : byte
{
    /// <summary>Not ICMP, or a type the flow table ignores.</summary>
    Other,
    EchoRequest,
    EchoReply,

    /// <summary>Unreachable, too big, time exceeded, parameter problem: quotes the packet it answers.</summary>
    Error,
}
