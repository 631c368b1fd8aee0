using System.Buffers.Binary;
using System.Net;
using Trellis.Core.Transport;
using Trellis.Net.Stun;

namespace Trellis.Net.Tests.Stun;

/// <summary>The codec against the sample messages of RFC 5769.</summary>
public sealed class Rfc5769Tests
{
    public static TheoryData<string> SamplesWithFingerprint => ["request", "ipv4", "ipv6"];

    [Fact]
    public void The_sample_request_parses_with_its_software_and_the_ICE_priority_as_unknown()
    {
        Assert.True(StunPacket.IsStunPacket(Rfc5769Samples.Request));
        Assert.True(StunMessage.TryParse(Rfc5769Samples.Request, out var message));

        Assert.Equal(StunMessageType.BindingRequest, message.Type);
        Assert.Equal(StunTransactionId.FromBytes(Rfc5769Samples.TransactionId), message.TransactionId);
        Assert.Equal("STUN test client", message.Software);
        Assert.True(message.HasMessageIntegrity);
        Assert.True(message.HasFingerprint);
        Assert.Null(message.ObservedAddress);

        // PRIORITY (0x0024) is ICE's and comprehension-required; ICE-CONTROLLED (0x8029) is optional.
        Assert.Equal([(ushort)0x0024], message.UnknownComprehensionRequired);
    }

    [Fact]
    public void The_sample_IPv4_response_carries_192_0_2_1_port_32853()
    {
        Assert.True(StunMessage.TryParse(Rfc5769Samples.IPv4Response, out var message));

        Assert.Equal(StunMessageType.BindingSuccess, message.Type);
        Assert.Equal(StunTransactionId.FromBytes(Rfc5769Samples.TransactionId), message.TransactionId);
        Assert.Equal("test vector", message.Software);
        Assert.Equal(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:32853")), message.XorMappedAddress);
        Assert.Equal(message.XorMappedAddress, message.ObservedAddress);
        Assert.True(message.HasMessageIntegrity);
        Assert.True(message.HasFingerprint);
        Assert.Empty(message.UnknownComprehensionRequired);
    }

    [Fact]
    public void The_sample_IPv6_response_carries_its_address_and_port()
    {
        Assert.True(StunMessage.TryParse(Rfc5769Samples.IPv6Response, out var message));

        Assert.Equal(StunMessageType.BindingSuccess, message.Type);
        Assert.Equal("test vector", message.Software);
        Assert.Equal(Endpoint.FromIPEndPoint(IPEndPoint.Parse("[2001:db8:1234:5678:11:2233:4455:6677]:32853")), message.XorMappedAddress);
        Assert.False(message.XorMappedAddress!.Value.IsIPv4);
        Assert.True(message.HasFingerprint);
    }

    [Fact]
    public void The_long_term_credential_sample_parses_with_its_integrity_skipped()
    {
        Assert.True(StunMessage.TryParse(Rfc5769Samples.LongTermRequest, out var message));

        Assert.Equal(StunMessageType.BindingRequest, message.Type);
        Assert.Equal(StunTransactionId.FromBytes(Rfc5769Samples.Hex("78 ad 34 33 c6 ad 72 c0 29 da 41 2e")), message.TransactionId);
        Assert.True(message.HasMessageIntegrity);
        Assert.False(message.HasFingerprint);
        Assert.Empty(message.UnknownComprehensionRequired); // USERNAME, NONCE, REALM are understood
    }

    [Theory]
    [MemberData(nameof(SamplesWithFingerprint))]
    public void The_samples_fingerprints_are_the_CRC32_of_what_precedes_them_xor_STUN(string name)
    {
        var sample = Sample(name);
        var fingerprint = BinaryPrimitives.ReadUInt32BigEndian(sample.AsSpan(sample.Length - 4));
        Assert.Equal(fingerprint, StunCrc32.Compute(sample.AsSpan(0, sample.Length - 8)) ^ StunPacket.FingerprintXor);
    }

    [Theory]
    [MemberData(nameof(SamplesWithFingerprint))]
    public void A_sample_with_one_flipped_bit_fails_its_fingerprint(string name)
    {
        var sample = Sample(name);
        sample[30] ^= 0x01; // inside the first attribute's value (SOFTWARE), which nothing else checks
        Assert.False(StunMessage.TryParse(sample, out _));
    }

    [Theory]
    [InlineData("192.0.2.1:32853", "ipv4")]
    [InlineData("[2001:db8:1234:5678:11:2233:4455:6677]:32853", "ipv6")]
    public void The_writer_encodes_the_samples_XOR_MAPPED_ADDRESS_to_the_same_bytes(string endpoint, string name)
    {
        var sample = Sample(name);
        var buffer = new byte[128];
        var writer = new StunWriter(buffer, StunMessageType.BindingSuccess, StunTransactionId.FromBytes(Rfc5769Samples.TransactionId));
        writer.AddXorMappedAddress(Endpoint.FromIPEndPoint(IPEndPoint.Parse(endpoint)));
        var length = writer.Finish(fingerprint: false);

        // The samples' XOR-MAPPED-ADDRESS follows a 16-byte SOFTWARE attribute.
        var attribute = buffer.AsSpan(StunPacket.HeaderLength, length - StunPacket.HeaderLength);
        Assert.Equal(sample.AsSpan(StunPacket.HeaderLength + 16, attribute.Length).ToArray(), attribute.ToArray());
        Assert.Equal(sample.AsSpan(0, 2).ToArray(), buffer.AsSpan(0, 2).ToArray());
        Assert.Equal(sample.AsSpan(4, 16).ToArray(), buffer.AsSpan(4, 16).ToArray());
    }

    private static byte[] Sample(string name) => name switch
    {
        "request" => Rfc5769Samples.Request,
        "ipv4" => Rfc5769Samples.IPv4Response,
        "ipv6" => Rfc5769Samples.IPv6Response,
        _ => throw new ArgumentOutOfRangeException(nameof(name)),
    };
}
