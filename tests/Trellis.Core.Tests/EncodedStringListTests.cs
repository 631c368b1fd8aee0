using System.Text;
using Trellis.Core.Control;

namespace Trellis.Core.Tests;

/// <summary>A filter whose sources are a shared, pre-encoded list is sent as the very bytes of one with a plain list.</summary>
public class EncodedStringListTests
{
    private static MapDelta WithSources(IReadOnlyList<string> sources) => new()
    {
        PacketFilter = new PacketFilter
        {
            Rules =
            [
                new FilterRule { Sources = sources, Destinations = [new FilterDestination { Prefix = "100.64.0.1/32", FirstPort = 22, LastPort = 22 }] },
                new FilterRule { Sources = sources, Destinations = [new FilterDestination { Prefix = "100.64.0.1/32" }], Protocols = [IpProtocols.Tcp] },
            ],
        },
    };

    private static byte[] Framed(ControlMessage message)
    {
        using var writer = FramedMessageWriter.Write(message);
        return [.. writer.Chunks.SelectMany(c => c.ToArray())];
    }

    [Theory]
    [InlineData(0)]
    [InlineData(1)]
    [InlineData(3)]
    [InlineData(5000)] // several pieces of the stored encoding, and a message over several segments
    public void Sources_stored_encoded_are_written_as_a_plain_list_would_be_and_read_back_alike(int count)
    {
        // Addresses as a filter holds them, and strings the encoder must escape.
        List<string> plain = [.. Enumerable.Range(0, count).Select(i => i % 7 == 3 ? $"quote\" <tag> é {i}" : $"100.64.{i / 256}.{i % 256}/32")];

        var encoded = Framed(WithSources(new EncodedStringList(plain)));
        var expected = Framed(WithSources(plain));

        Assert.Equal(Encoding.UTF8.GetString(expected), Encoding.UTF8.GetString(encoded));
        var framer = new MessageFramer();
        var back = Assert.IsType<MapDelta>(Assert.Single(MessageFramer.Chunks(encoded).SelectMany(c => framer.Add(c.Span)).ToList()));
        Assert.All(back.PacketFilter!.Rules, rule => Assert.Equal(plain, rule.Sources));
    }

    [Fact]
    public void A_source_that_is_not_a_string_is_refused_as_invalid_data()
    {
        var json = """{"type":"delta","packetFilter":{"rules":[{"sources":["100.64.0.2/32",1],"destinations":[]}]}}"""u8.ToArray();

        var error = Assert.Throws<InvalidDataException>(() => MessageFramer.Decode(json));
        Assert.Contains("string", error.Message, StringComparison.Ordinal);
    }
}
