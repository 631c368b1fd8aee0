using Trellis.Fuzz.Targets;

namespace Trellis.Fuzz.Tests;

/// <summary>
/// The node's inbound packet filter as its fuzz target runs it (the target throws when the filter
/// allocates): its seeds judged as their names say, so the fuzzer works against a filter that is
/// really in force; every truncation refused; every header byte mutated judged without a crash.
/// </summary>
public sealed class PacketFilterTargetTests
{
    // Enough to cover the longest header chain of the seeds (IPv6, three extension headers, TCP with options).
    private const int MutatedPrefix = 128;

    private static readonly byte[] Masks = [0x01, 0x80, 0xff];

    [Fact]
    public void Each_seed_is_let_in_or_refused_as_its_name_says()
    {
        var wrong = PacketFilterSeeds.All()
            .Where(seed => PacketFilterTarget.Run(seed.Packet) != !seed.Name.StartsWith("refused-", StringComparison.Ordinal))
            .Select(seed => seed.Name)
            .ToList();

        Assert.True(wrong.Count == 0, $"judged against their names: {string.Join(", ", wrong)}");
    }

    [Fact]
    public void A_packet_cut_short_of_its_IP_length_is_refused_at_every_length()
    {
        foreach (var (name, packet) in PacketFilterSeeds.All().Where(s => !s.Name.StartsWith("refused-", StringComparison.Ordinal)))
        {
            for (var length = 0; length < packet.Length; length++)
            {
                Assert.False(PacketFilterTarget.Run(packet.AsSpan(0, length)), $"{name} cut to {length} of {packet.Length} bytes was let in");
            }
        }
    }

    [Fact]
    public void Every_header_byte_mutated_is_judged_without_an_exception_or_an_allocation()
    {
        foreach (var (name, packet) in PacketFilterSeeds.All())
        {
            for (var at = 0; at < Math.Min(packet.Length, MutatedPrefix); at++)
            {
                foreach (var mask in Masks)
                {
                    var mutated = packet.ToArray();
                    mutated[at] ^= mask;
                    var error = Record.Exception(() => PacketFilterTarget.Run(mutated));
                    Assert.True(error is null, $"{name} with byte {at} ^ 0x{mask:x2}: {error?.Message}");
                }
            }
        }
    }
}
