using System.Reflection;
using System.Runtime.InteropServices;

namespace Trellis.Crypto;

/// <summary>The few OpenSSL EVP calls the data path's AEAD needs (OpenSSL is already loaded by .NET on Linux).</summary>
internal static partial class LibCrypto
{
    private const string Library = "trellis-libcrypto";

    public const int CtrlAeadGetTag = 0x10;
    public const int CtrlAeadSetTag = 0x11;

    static LibCrypto()
    {
        NativeLibrary.SetDllImportResolver(typeof(LibCrypto).Assembly, Resolve);
    }

    /// <summary>Forces the static constructor (and so the resolver) before the first P/Invoke.</summary>
    public static void EnsureLoaded()
    {
    }

    private static IntPtr Resolve(string name, Assembly assembly, DllImportSearchPath? path)
    {
        if (name != Library)
        {
            return IntPtr.Zero;
        }

        foreach (var candidate in new[] { "libcrypto.so.3", "libcrypto.so.1.1", "libcrypto.so" })
        {
            if (NativeLibrary.TryLoad(candidate, assembly, path, out var handle))
            {
                return handle;
            }
        }

        throw new DllNotFoundException("OpenSSL's libcrypto (libcrypto.so.3) was not found; install libssl3");
    }

    [LibraryImport(Library)]
    public static partial IntPtr EVP_CIPHER_CTX_new();

    [LibraryImport(Library)]
    public static partial void EVP_CIPHER_CTX_free(IntPtr ctx);

    [LibraryImport(Library)]
    public static partial IntPtr EVP_chacha20_poly1305();

    [LibraryImport(Library)]
    public static unsafe partial int EVP_CipherInit_ex(IntPtr ctx, IntPtr cipher, IntPtr engine, byte* key, byte* iv, int enc);

    [LibraryImport(Library)]
    public static unsafe partial int EVP_CipherUpdate(IntPtr ctx, byte* output, int* outputLength, byte* input, int inputLength);

    [LibraryImport(Library)]
    public static unsafe partial int EVP_CipherFinal_ex(IntPtr ctx, byte* output, int* outputLength);

    [LibraryImport(Library)]
    public static unsafe partial int EVP_CIPHER_CTX_ctrl(IntPtr ctx, int type, int arg, void* ptr);
}
