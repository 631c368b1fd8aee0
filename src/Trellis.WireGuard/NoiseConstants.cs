using System.Text;
using Trellis.Crypto;

namespace Trellis.WireGuard;

/// <summary>Ck0 = HASH(Construction), H0 = HASH(Ck0 || Identifier), computed once.</summary>
internal static class NoiseConstants
{
    public static readonly byte[] InitialChainKey = Compute(Encoding.ASCII.GetBytes(Constants.Construction), default);

    public static readonly byte[] InitialHash = Compute(InitialChainKey, Encoding.ASCII.GetBytes(Constants.Identifier));

    private static byte[] Compute(ReadOnlySpan<byte> a, ReadOnlySpan<byte> b)
    {
        var h = new byte[Blake2s.HashSize];
        Blake2s.Hash(h, a, b);
        return h;
    }
}
