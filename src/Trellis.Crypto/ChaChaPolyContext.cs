namespace Trellis.Crypto;

/// <summary>
/// ChaCha20-Poly1305 for the data path (and <see cref="Aead"/>'s handshake and control-channel seals):
/// one OpenSSL context per thread, re-keyed per message (ChaCha has no key schedule, so re-keying costs a copy). Written by hand because .NET's type costs an
/// exception per forged packet and runs at about 60% of this speed (docs/BENCHMARKS.md); the nonce is
/// WireGuard's (4 zero bytes, 64-bit little-endian counter). Not thread-safe: use <see cref="ForCurrentThread"/>.
/// </summary>
public sealed unsafe class ChaChaPolyContext : IDisposable
{
    public const int KeySize = 32;
    public const int TagSize = 16;

    [ThreadStatic]
    private static ChaChaPolyContext? t_context;

    private readonly IntPtr _encrypt;
    private readonly IntPtr _decrypt;
    private bool _disposed;

    public ChaChaPolyContext()
    {
        LibCrypto.EnsureLoaded();
        var cipher = LibCrypto.EVP_chacha20_poly1305();
        _encrypt = LibCrypto.EVP_CIPHER_CTX_new();
        _decrypt = LibCrypto.EVP_CIPHER_CTX_new();
        if (cipher == IntPtr.Zero || _encrypt == IntPtr.Zero || _decrypt == IntPtr.Zero ||
            LibCrypto.EVP_CipherInit_ex(_encrypt, cipher, IntPtr.Zero, null, null, 1) != 1 ||
            LibCrypto.EVP_CipherInit_ex(_decrypt, cipher, IntPtr.Zero, null, null, 0) != 1)
        {
            Free();
            throw new InvalidOperationException("OpenSSL could not set up ChaCha20-Poly1305");
        }
    }

    ~ChaChaPolyContext() => Free();

    /// <summary>This thread's context, created on first use and freed when the thread ends.</summary>
    public static ChaChaPolyContext ForCurrentThread() => t_context ??= new ChaChaPolyContext();

    /// <summary>Encrypts <paramref name="data"/> in place and writes the 16-byte tag; <paramref name="associatedData"/> is authenticated, not sent (none on the data path).</summary>
    public void Seal(ReadOnlySpan<byte> key, ulong counter, Span<byte> data, Span<byte> tag, ReadOnlySpan<byte> associatedData = default)
    {
        if (key.Length != KeySize || tag.Length < TagSize)
        {
            throw new ArgumentException("a 32-byte key and a 16-byte tag are required");
        }

        var iv = stackalloc byte[12];
        WriteIv(iv, counter);
        int written;
        fixed (byte* k = key)
        fixed (byte* d = data)
        fixed (byte* t = tag)
        fixed (byte* a = associatedData)
        {
            if (LibCrypto.EVP_CipherInit_ex(_encrypt, IntPtr.Zero, IntPtr.Zero, k, iv, 1) != 1 ||
                (associatedData.Length > 0 && LibCrypto.EVP_CipherUpdate(_encrypt, null, &written, a, associatedData.Length) != 1) ||
                (data.Length > 0 && LibCrypto.EVP_CipherUpdate(_encrypt, d, &written, d, data.Length) != 1) ||
                LibCrypto.EVP_CipherFinal_ex(_encrypt, d + data.Length, &written) != 1 ||
                LibCrypto.EVP_CIPHER_CTX_ctrl(_encrypt, LibCrypto.CtrlAeadGetTag, TagSize, t) != 1)
            {
                throw new InvalidOperationException("OpenSSL ChaCha20-Poly1305 encryption failed");
            }
        }
    }

    /// <summary>Decrypts <paramref name="data"/> in place; false (data unspecified) when the tag does not verify.</summary>
    public bool Open(ReadOnlySpan<byte> key, ulong counter, Span<byte> data, ReadOnlySpan<byte> tag, ReadOnlySpan<byte> associatedData = default)
    {
        if (key.Length != KeySize || tag.Length < TagSize)
        {
            return false;
        }

        var iv = stackalloc byte[12];
        WriteIv(iv, counter);
        int written;
        fixed (byte* k = key)
        fixed (byte* d = data)
        fixed (byte* t = tag)
        fixed (byte* a = associatedData)
        {
            return LibCrypto.EVP_CipherInit_ex(_decrypt, IntPtr.Zero, IntPtr.Zero, k, iv, 0) == 1 &&
                   (associatedData.Length == 0 || LibCrypto.EVP_CipherUpdate(_decrypt, null, &written, a, associatedData.Length) == 1) &&
                   (data.Length == 0 || LibCrypto.EVP_CipherUpdate(_decrypt, d, &written, d, data.Length) == 1) &&
                   LibCrypto.EVP_CIPHER_CTX_ctrl(_decrypt, LibCrypto.CtrlAeadSetTag, TagSize, t) == 1 &&
                   LibCrypto.EVP_CipherFinal_ex(_decrypt, d + data.Length, &written) == 1;
        }
    }

    /// <summary>WireGuard's nonce: four zero bytes, then the counter little-endian.</summary>
    private static void WriteIv(byte* iv, ulong counter) => Aead.WriteNonce(new Span<byte>(iv, 12), counter);

    private void Free()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        if (_encrypt != IntPtr.Zero)
        {
            LibCrypto.EVP_CIPHER_CTX_free(_encrypt);
        }

        if (_decrypt != IntPtr.Zero)
        {
            LibCrypto.EVP_CIPHER_CTX_free(_decrypt);
        }
    }

    public void Dispose()
    {
        Free();
        GC.SuppressFinalize(this);
    }
}
