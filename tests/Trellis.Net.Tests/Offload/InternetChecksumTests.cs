using Trellis.Net.Offload;

namespace Trellis.Net.Tests.Offload;

/// <summary>The fast Internet checksum against the obvious one, over every length a packet can have.</summary>
public class InternetChecksumTests
{
    public static TheoryData<int> Lengths => [.. Enumerable.Range(0, 70).Concat([127, 128, 129, 1399, 1400, 1420, 8999, 65535])];

    [Theory]
    [MemberData(nameof(Lengths))]
    public void The_sum_of_any_length_from_any_even_split_folds_to_the_reference_value(int length)
    {
        var random = new Random(length);
        var data = new byte[length];
        random.NextBytes(data);
        var expected = ReferenceChecksum.Fold(ReferenceChecksum.Sum(data));

        Assert.Equal(expected, InternetChecksum.Fold(InternetChecksum.Add(data)));
        for (var split = 0; split <= length; split += 2 * (1 + random.Next(32)))
        {
            var sum = InternetChecksum.Add(data.AsSpan(split), InternetChecksum.Add(data.AsSpan(0, split)));
            Assert.Equal(expected, InternetChecksum.Fold(sum));
        }
    }

    // Add picks one width by what the machine has; the 128-bit one (NativeAOT, arm64) is checked even where Add would not take it.
    [Theory]
    [InlineData(32)]
    [InlineData(64)]
    [InlineData(96)]
    [InlineData(1440)]
    [InlineData(65504)]
    public void Both_vector_widths_sum_to_the_reference_value(int length)
    {
        var data = new byte[length];
        new Random(length).NextBytes(data);
        var expected = ReferenceChecksum.Fold(ReferenceChecksum.Sum(data));

        Assert.Equal(expected, InternetChecksum.Fold(InternetChecksum.AddVectors128(data)));
        if (System.Runtime.Intrinsics.Vector256.IsHardwareAccelerated)
        {
            Assert.Equal(expected, InternetChecksum.Fold(InternetChecksum.AddVectors256(data)));
        }
    }

    // 3 MiB and a bit: more words than a 32-bit vector lane holds without overflowing.
    [Theory]
    [InlineData(65535)]
    [InlineData((3 * 1024 * 1024) + 7)]
    public void Words_of_all_ones_that_would_overflow_a_narrow_sum_fold_to_the_reference_value(int length)
    {
        var data = Enumerable.Repeat((byte)0xff, length).ToArray();
        Assert.Equal(ReferenceChecksum.Fold(ReferenceChecksum.Sum(data)), InternetChecksum.Fold(InternetChecksum.Add(data)));
    }
}
