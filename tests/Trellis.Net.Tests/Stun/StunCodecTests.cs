using System.Buffers.Binary;
using System.Net;
using Trellis.Core.Transport;
using Trellis.Net.Stun;

namespace Trellis.Net.Tests.Stun;

public sealed class StunCodecTests
{
    private static readonly StunTransactionId Id = StunTransactionId.FromBytes(Rfc5769Samples.TransactionId);

    [Fact]
    public void A_binding_request_is_a_header_and_a_fingerprint()
    {
        var buffer = new byte[64];
        var length = StunPacket.WriteBindingRequest(buffer, Id);

        Assert.Equal(StunPacket.BindingRequestLength, length);
        Assert.Equal(8, BinaryPrimitives.ReadUInt16BigEndian(buffer.AsSpan(2)));
        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var message));
        Assert.Equal(StunMessageType.BindingRequest, message.Type);
        Assert.Equal(Id, message.TransactionId);
        Assert.True(message.HasFingerprint);
        Assert.Null(message.Software);
    }

    [Theory]
    [InlineData("203.0.113.7:40000")]
    [InlineData("[2001:db8::7]:1")]
    [InlineData("0.0.0.0:65535")]
    public void A_success_response_round_trips_its_address_software_and_id(string endpoint)
    {
        var mapped = Endpoint.FromIPEndPoint(IPEndPoint.Parse(endpoint));
        var buffer = new byte[256];
        var length = StunPacket.WriteBindingSuccess(buffer, Id, mapped, "trellis 1.0 ✓");

        Assert.Equal(0, length % 4);
        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var message));
        Assert.Equal(StunMessageType.BindingSuccess, message.Type);
        Assert.Equal(mapped, message.XorMappedAddress);
        Assert.Null(message.MappedAddress);
        Assert.Equal("trellis 1.0 ✓", message.Software);
        Assert.True(message.HasFingerprint);
    }

    [Fact]
    public void The_legacy_MAPPED_ADDRESS_is_read_plain_and_yields_to_XOR_MAPPED_ADDRESS()
    {
        var plain = Endpoint.FromIPEndPoint(IPEndPoint.Parse("198.51.100.1:3478"));
        var xored = Endpoint.FromIPEndPoint(IPEndPoint.Parse("198.51.100.2:3479"));
        var buffer = new byte[128];
        var writer = new StunWriter(buffer, StunMessageType.BindingSuccess, Id);
        writer.AddMappedAddress(plain);
        var onlyPlain = writer.Length;
        writer.AddXorMappedAddress(xored);
        var length = writer.Finish();

        Assert.Equal(0xc6, buffer[StunPacket.HeaderLength + 8]); // 198, written as is
        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var both));
        Assert.Equal(plain, both.MappedAddress);
        Assert.Equal(xored, both.ObservedAddress);

        var writer2 = new StunWriter(buffer, StunMessageType.BindingSuccess, Id);
        writer2.AddMappedAddress(plain);
        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, writer2.Finish(fingerprint: false)), out var legacy));
        Assert.Equal(StunPacket.HeaderLength + 12, onlyPlain);
        Assert.Equal(plain, legacy.ObservedAddress);
    }

    [Fact]
    public void An_error_420_lists_the_unknown_attributes()
    {
        var buffer = new byte[128];
        var length = StunPacket.WriteBindingError(buffer, Id, 420, "Unknown Attribute", [0x0024, 0x0003], "trellis");

        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var message));
        Assert.Equal(StunMessageType.BindingError, message.Type);
        Assert.Equal(420, message.ErrorCode);
        Assert.Equal("Unknown Attribute", message.ErrorReason);
        Assert.Equal([(ushort)0x0024, (ushort)0x0003], message.ListedUnknownAttributes);
        Assert.Equal("trellis", message.Software);
        // class 4, number 20, after two reserved bytes
        Assert.Equal(new byte[] { 0, 0, 4, 20 }, buffer.AsSpan(StunPacket.HeaderLength + 4, 4).ToArray());
    }

    [Fact]
    public void Unknown_attributes_are_collected_once_when_comprehension_required_and_ignored_otherwise()
    {
        var buffer = new byte[128];
        var writer = new StunWriter(buffer, StunMessageType.BindingRequest, Id);
        writer.AddAttribute(0x0003, [0, 0, 0, 4]); // CHANGE-REQUEST (RFC 5780), which Trellis does not do
        writer.AddAttribute(0xC001, [1, 2, 3]); // optional: ignored
        writer.AddAttribute(0x0003, [0, 0, 0, 2]);
        writer.AddAttribute(0x7FFF, []);
        var length = writer.Finish();

        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var message));
        Assert.Equal([(ushort)0x0003, (ushort)0x7FFF], message.UnknownComprehensionRequired);
    }

    [Fact]
    public void Attributes_after_MESSAGE_INTEGRITY_other_than_FINGERPRINT_are_ignored()
    {
        var buffer = new byte[128];
        var writer = new StunWriter(buffer, StunMessageType.BindingSuccess, Id);
        writer.AddAttribute((ushort)StunAttributeType.MessageIntegrity, new byte[20]);
        writer.AddXorMappedAddress(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:1")));
        writer.AddAttribute(0x0003, [0, 0, 0, 0]);
        var length = writer.Finish();

        Assert.True(StunMessage.TryParse(buffer.AsSpan(0, length), out var message));
        Assert.True(message.HasMessageIntegrity);
        Assert.Null(message.ObservedAddress);
        Assert.Empty(message.UnknownComprehensionRequired);
        Assert.True(message.HasFingerprint);
    }

    [Fact]
    public void IsStunPacket_checks_the_first_two_bits_and_the_cookie_only()
    {
        var request = new byte[StunPacket.BindingRequestLength];
        StunPacket.WriteBindingRequest(request, Id);
        Assert.True(StunPacket.IsStunPacket(request));
        Assert.True(StunPacket.IsStunPacket(request.AsSpan(0, StunPacket.HeaderLength)));
        Assert.False(StunPacket.IsStunPacket(request.AsSpan(0, StunPacket.HeaderLength - 1)));

        var wireGuard = new byte[148];
        wireGuard[0] = 1; // a handshake initiation: type 1, then three zero bytes
        Assert.False(StunPacket.IsStunPacket(wireGuard));

        var topBit = (byte[])request.Clone();
        topBit[0] |= 0x40;
        Assert.False(StunPacket.IsStunPacket(topBit));

        var cookie = (byte[])request.Clone();
        cookie[7] ^= 1;
        Assert.False(StunPacket.IsStunPacket(cookie));
    }

    public static TheoryData<string, byte[]> Malformed()
    {
        var data = new TheoryData<string, byte[]>();
        var valid = Success();
        data.Add("empty", []);
        data.Add("header only, length claims more", valid[..StunPacket.HeaderLength]);
        data.Add("one byte short", valid[..^1]);
        data.Add("one byte long", [.. valid, 0]);
        data.Add("length not a multiple of 4", WithLength(Header(), 2, [0, 0]));
        data.Add("attribute header cut short", WithLength(Header(), 4, [0x80, 0x22, 0, 8]));
        data.Add("attribute value past the end", WithLength(Header(), 8, [0x80, 0x22, 0, 8, 1, 2, 3, 4]));
        data.Add("XOR-MAPPED-ADDRESS too short", WithLength(Header(), 8, [0, 0x20, 0, 4, 0, 1, 0, 0]));
        data.Add("XOR-MAPPED-ADDRESS of family 3", WithLength(Header(), 12, [0, 0x20, 0, 8, 0, 3, 0, 0, 1, 2, 3, 4]));
        data.Add("IPv6 family with an IPv4 length", WithLength(Header(), 12, [0, 0x20, 0, 8, 0, 2, 0, 0, 1, 2, 3, 4]));
        data.Add("ERROR-CODE too short", WithLength(Header(), 4, [0, 0x09, 0, 0]));
        data.Add("odd UNKNOWN-ATTRIBUTES", WithLength(Header(), 8, [0, 0x0A, 0, 3, 0, 1, 0, 0]));
        data.Add("FINGERPRINT of the wrong size", WithLength(Header(), 8, [0x80, 0x28, 0, 2, 0, 0, 0, 0]));
        data.Add("attribute after FINGERPRINT", AttributeAfterFingerprint());
        var wrongCookie = (byte[])valid.Clone();
        wrongCookie[4] = 0;
        data.Add("wrong cookie", wrongCookie);
        return data;
    }

    [Theory]
    [MemberData(nameof(Malformed))]
    public void Malformed_messages_are_refused_without_throwing(string what, byte[] packet)
    {
        Assert.False(StunMessage.TryParse(packet, out _), what);
    }

    [Fact]
    public void The_writer_refuses_to_overrun_its_buffer()
    {
        var buffer = new byte[StunPacket.HeaderLength + 4];
        var threw = false;
        try
        {
            var writer = new StunWriter(buffer, StunMessageType.BindingRequest, Id);
            writer.AddXorMappedAddress(Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:1")));
        }
        catch (ArgumentException)
        {
            threw = true;
        }

        Assert.True(threw);
    }

    private static byte[] Success()
    {
        var buffer = new byte[128];
        var length = StunPacket.WriteBindingSuccess(buffer, Id, Endpoint.FromIPEndPoint(IPEndPoint.Parse("192.0.2.1:1")), "x");
        return buffer[..length];
    }

    private static byte[] Header()
    {
        var buffer = new byte[StunPacket.HeaderLength];
        new StunWriter(buffer, StunMessageType.BindingSuccess, Id).Finish(fingerprint: false);
        return buffer;
    }

    /// <summary>A header followed by raw attribute bytes, with the length field set as given.</summary>
    private static byte[] WithLength(byte[] header, int length, byte[] body)
    {
        byte[] packet = [.. header, .. body];
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)length);
        return packet;
    }

    private static byte[] AttributeAfterFingerprint()
    {
        var buffer = new byte[128];
        var writer = new StunWriter(buffer, StunMessageType.BindingRequest, Id);
        var length = writer.Finish();
        byte[] packet = [.. buffer[..length], 0x80, 0x22, 0, 0];
        BinaryPrimitives.WriteUInt16BigEndian(packet.AsSpan(2), (ushort)(packet.Length - StunPacket.HeaderLength));
        return packet;
    }
}
