using Trellis.Net.Stun;

namespace Trellis.Net.Tests.Stun;

/// <summary>Whatever arrives from the network, parsing answers true or false and never throws.</summary>
public sealed class StunFuzzTests
{
    public static TheoryData<string> Seeds => ["request", "ipv4", "ipv6", "long-term"];

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Every_truncation_is_refused(string seed)
    {
        var sample = Sample(seed);
        for (var length = 0; length < sample.Length; length++)
        {
            Assert.False(StunMessage.TryParse(sample.AsSpan(0, length), out _), $"{seed} cut to {length} bytes");
        }
    }

    [Theory]
    [MemberData(nameof(Seeds))]
    public void Random_mutations_never_throw(string seed)
    {
        var random = new Random(seed.Length * 7919); // fixed seeds, so a failure reproduces
        var sample = Sample(seed);
        for (var round = 0; round < 20_000; round++)
        {
            var packet = Mutate(random, sample);
            _ = StunMessage.TryParse(packet, out var message);
            _ = StunPacket.IsStunPacket(packet);
            _ = message.UnknownComprehensionRequired.Count + message.ListedUnknownAttributes.Count;
        }
    }

    [Fact]
    public void Random_bytes_with_a_valid_header_never_throw()
    {
        var random = new Random(12345);
        var buffer = new byte[StunPacket.BindingRequestLength];
        StunPacket.WriteBindingRequest(buffer, StunTransactionId.NewRandom());
        for (var round = 0; round < 20_000; round++)
        {
            var body = new byte[4 * random.Next(0, 40)];
            random.NextBytes(body);
            byte[] packet = [.. buffer.AsSpan(0, StunPacket.HeaderLength), .. body];
            packet[2] = (byte)(body.Length >> 8);
            packet[3] = (byte)body.Length;
            _ = StunMessage.TryParse(packet, out _);
        }
    }

    private static byte[] Mutate(Random random, byte[] sample)
    {
        var packet = (byte[])sample.Clone();
        switch (random.Next(4))
        {
            case 0: // flip a few bytes, keeping the header's cookie so parsing goes deep
                for (var i = random.Next(1, 4); i > 0; i--)
                {
                    var at = random.Next(StunPacket.HeaderLength, packet.Length);
                    packet[at] = (byte)random.Next(256);
                }

                break;
            case 1: // an attribute length set to anything
                var attribute = StunPacket.HeaderLength + (4 * random.Next((packet.Length - StunPacket.HeaderLength) / 4));
                packet[attribute + 2] = (byte)random.Next(256);
                packet[attribute + 3] = (byte)random.Next(256);
                break;
            case 2: // the message length set to anything
                packet[2] = (byte)random.Next(256);
                packet[3] = (byte)random.Next(256);
                break;
            default: // cut and padded
                Array.Resize(ref packet, random.Next(packet.Length + 8));
                break;
        }

        return packet;
    }

    private static byte[] Sample(string seed) => seed switch
    {
        "request" => Rfc5769Samples.Request,
        "ipv4" => Rfc5769Samples.IPv4Response,
        "ipv6" => Rfc5769Samples.IPv6Response,
        _ => Rfc5769Samples.LongTermRequest,
    };
}
