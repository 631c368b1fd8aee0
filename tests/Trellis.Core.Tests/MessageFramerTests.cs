using System.Buffers.Binary;
using System.Text;
using Trellis.Core.Control;

namespace Trellis.Core.Tests;

public class MessageFramerTests
{
    private static PeerInfo Peer(int i) => new()
    {
        Id = i,
        Name = $"host-{i}",
        NodeKey = new string('a', 44),
        DiscoKey = new string('b', 44),
        Addresses = [$"100.64.{i / 256}.{i % 256}/32", $"fd7a:115c:a1e0::{i:x}/128"],
        AllowedIps = [$"100.64.{i / 256}.{i % 256}/32"],
        Endpoints = ["198.51.100.1:41641", "[2001:db8::1]:41641"],
    };

    [Fact]
    public void A_map_larger_than_one_noise_message_survives_chunking_in_any_split()
    {
        var map = new FullMap { Self = Peer(0), Peers = [.. Enumerable.Range(1, 2000).Select(Peer)] };
        var framed = MessageFramer.Encode(map);
        Assert.True(framed.Length > 3 * MessageFramer.MaxChunk);
        var chunks = MessageFramer.Chunks(framed).ToList();
        Assert.All(chunks, c => Assert.True(c.Length <= MessageFramer.MaxChunk));

        var framer = new MessageFramer();
        var received = chunks.SelectMany(c => framer.Add(c.Span)).ToList();
        var back = Assert.IsType<FullMap>(Assert.Single(received));
        Assert.Equal(2000, back.Peers.Count);
        Assert.Equal(map.Peers[1999].Endpoints, back.Peers[1999].Endpoints);

        // byte by byte too, and two messages in one chunk
        var two = MessageFramer.Encode(new KeepaliveMessage()).Concat(MessageFramer.Encode(new LogoutRequest())).ToArray();
        var slow = new MessageFramer();
        var messages = two.SelectMany(b => slow.Add([b])).ToList();
        Assert.IsType<KeepaliveMessage>(messages[0]);
        Assert.IsType<LogoutRequest>(messages[1]);
    }

    [Theory]
    [InlineData("{\"type\":\"register\"")] // truncated JSON
    [InlineData("[1,2,3]")]
    [InlineData("{\"type\":\"no-such-type\"}")]
    [InlineData("{\"type\":\"register\",\"nodeKey\":5}")]
    [InlineData("null")]
    public void Invalid_json_is_a_clear_error(string json)
    {
        var body = Encoding.UTF8.GetBytes(json);
        var framed = new byte[4 + body.Length];
        BinaryPrimitives.WriteInt32BigEndian(framed, body.Length);
        body.CopyTo(framed, 4);
        var e = Assert.Throws<InvalidDataException>(() => new MessageFramer().Add(framed));
        Assert.Contains("control message", e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(-1)]
    public void Nonsense_lengths_are_refused_before_buffering(int length)
    {
        var header = new byte[4];
        BinaryPrimitives.WriteInt32BigEndian(header, length);
        Assert.Throws<InvalidDataException>(() => new MessageFramer(maxMessage: 1_000_000).Add(header));
    }

    [Fact]
    public void A_32_MiB_node_message_is_refused_at_its_length_prefix_without_allocating_its_body()
    {
        var framer = new MessageFramer(MessageFramer.MaxNodeMessage);
        // The first Noise chunk of such a message: its length prefix and as much body as fits.
        var firstChunk = new byte[MessageFramer.MaxChunk];
        BinaryPrimitives.WriteInt32BigEndian(firstChunk, 32 * 1024 * 1024);
        firstChunk.AsSpan(4).Fill((byte)' ');

        var before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<ControlMessageTooLargeException>(() => framer.AddRaw(firstChunk));
        var allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.Equal(32 * 1024 * 1024, e.Length);
        Assert.Equal(1024 * 1024, e.Limit);
        Assert.Contains("over the limit of 1048576 bytes", e.Message, StringComparison.Ordinal);
        Assert.True(allocated < 4 * MessageFramer.MaxChunk, $"the refusal allocated {allocated} bytes");
    }

    [Fact]
    public void The_node_message_cap_still_lets_a_node_register_with_the_most_routes_the_server_keeps()
    {
        var register = new RegisterRequest
        {
            NodeKey = new string('n', 44),
            DiscoKey = new string('d', 44),
            Hostname = new string('h', 63),
            AuthKey = new string('k', 80),
            AdvertisedRoutes = [.. Enumerable.Range(0, 1024).Select(i => $"fd12:3456:789a:{i:x4}:ffff:ffff::/96")],
        };
        var framed = MessageFramer.Encode(register);

        var framer = new MessageFramer(MessageFramer.MaxNodeMessage);
        var received = MessageFramer.Chunks(framed).SelectMany(c => framer.Add(c.Span)).ToList();

        Assert.Equal(register.AdvertisedRoutes, Assert.IsType<RegisterRequest>(Assert.Single(received)).AdvertisedRoutes);
    }

    [Fact]
    public void The_pooled_writer_produces_exactly_the_framed_bytes_in_chunks_that_fit_noise_messages()
    {
        var map = new FullMap { Self = Peer(0), Peers = [.. Enumerable.Range(1, 1500).Select(Peer)] };
        // Reference framing built independently of the writer: big-endian length, then the JSON.
        var json = System.Text.Json.JsonSerializer.SerializeToUtf8Bytes<ControlMessage>(map, ControlJsonContext.Default.ControlMessage);
        var expected = new byte[4 + json.Length];
        BinaryPrimitives.WriteInt32BigEndian(expected, json.Length);
        json.CopyTo(expected, 4);
        using var writer = FramedMessageWriter.Write(map);
        var chunks = writer.Chunks.ToList();
        Assert.All(chunks, c => Assert.True(c.Length <= MessageFramer.MaxChunk));
        Assert.True(chunks.Count > 1);
        Assert.Equal(expected, chunks.SelectMany(c => c.ToArray()).ToArray());
        Assert.Equal(expected.Length, writer.Length);
        Assert.Equal(expected, MessageFramer.Encode(map));

        using var small = FramedMessageWriter.Write(new KeepaliveMessage());
        Assert.Equal(MessageFramer.Encode(new KeepaliveMessage()), Assert.Single(small.Chunks).ToArray());
    }

    [Fact]
    public void Thousands_of_small_messages_in_flight_hold_a_few_kilobytes_each_not_a_whole_chunk()
    {
        // A join sends one small delta to every other node at once; each waits on its node's socket.
        var delta = new MapDelta { Patches = [new PeerPatch { Id = 7, Online = true }] };
        var writers = new List<FramedMessageWriter>();
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < 2000; i++)
        {
            writers.Add(FramedMessageWriter.Write(delta));
        }

        var perMessage = (GC.GetAllocatedBytesForCurrentThread() - before) / writers.Count;
        foreach (var writer in writers)
        {
            Assert.Equal(MessageFramer.Encode(delta), Assert.Single(writer.Chunks).ToArray());
            writer.Dispose();
        }

        // The pool runs dry after a few dozen: every writer past them allocates its first segment.
        Assert.True(perMessage < 8 * 1024, $"{perMessage} bytes per message in flight");
    }

    [Fact]
    public void A_connection_between_whole_messages_holds_no_buffer()
    {
        // A server reads thousands of node connections, whose small messages arrive whole: none may keep
        // a reassembly buffer between them (a 4 KiB one each was 40 MB at 10,000 nodes).
        var keepalive = MessageFramer.Encode(new KeepaliveMessage());
        var framers = new MessageFramer[2000];
        var before = GC.GetAllocatedBytesForCurrentThread();
        for (var i = 0; i < framers.Length; i++)
        {
            framers[i] = new MessageFramer(MessageFramer.MaxNodeMessage);
            Assert.Single(framers[i].AddRaw(keepalive));
        }

        var perConnection = (GC.GetAllocatedBytesForCurrentThread() - before) / framers.Length;
        Assert.True(perConnection < 1024, $"{perConnection} bytes per connection");

        // A message cut anywhere still arrives, and the next whole one after it too.
        var two = MessageFramer.Encode(new LogoutRequest()).Concat(keepalive).ToArray();
        for (var cut = 1; cut < two.Length; cut++)
        {
            var framer = framers[cut];
            var first = framer.Add(two.AsSpan(0, cut));
            var rest = framer.Add(two.AsSpan(cut));
            Assert.Equal([typeof(LogoutRequest), typeof(KeepaliveMessage)], first.Concat(rest).Select(m => m.GetType()));
            Assert.IsType<KeepaliveMessage>(Assert.Single(framer.Add(keepalive)));
        }
    }
}
