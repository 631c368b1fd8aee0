namespace Trellis.Crypto;

/// <summary>
/// The HKDF-style KDF of the WireGuard paper: prk = HMAC(ck, input); t1 = HMAC(prk, 0x01);
/// t(i) = HMAC(prk, t(i-1) || i). Outputs that are not wanted are passed as empty spans.
/// </summary>
public static class Kdf
{
    public static void Derive(ReadOnlySpan<byte> chainingKey, ReadOnlySpan<byte> input, Span<byte> t1, Span<byte> t2 = default, Span<byte> t3 = default)
    {
        Span<byte> prk = stackalloc byte[Blake2s.HashSize];
        Span<byte> t = stackalloc byte[Blake2s.HashSize + 1];
        Blake2s.Hmac(prk, chainingKey, input);

        t[0] = 1;
        Blake2s.Hmac(t, prk, t[..1]);
        t[..Blake2s.HashSize].CopyTo(t1);
        if (!t2.IsEmpty)
        {
            t[Blake2s.HashSize] = 2;
            Blake2s.Hmac(t, prk, t);
            t[..Blake2s.HashSize].CopyTo(t2);
            if (!t3.IsEmpty)
            {
                t[Blake2s.HashSize] = 3;
                Blake2s.Hmac(t, prk, t);
                t[..Blake2s.HashSize].CopyTo(t3);
            }
        }

        prk.Clear();
        t.Clear();
    }
}
