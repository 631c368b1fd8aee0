using System.Security.Cryptography;
using BenchmarkDotNet.Attributes;
using Trellis.Crypto;

namespace Trellis.Benchmarks;

/// <summary>
/// ChaCha20-Poly1305 on one core for a 1420-byte packet: .NET's type (one instance per key, as the
/// data path first used it) against the per-thread OpenSSL context the data path uses now.
/// Run: dotnet run -c Release --project bench/Trellis.Benchmarks -- --filter '*Aead*'
/// </summary>
[MemoryDiagnoser]
[ShortRunJob]
public class AeadBenchmarks
{
    private readonly byte[] _key = new byte[32];
    private readonly byte[] _data = new byte[1420];
    private readonly byte[] _tag = new byte[16];
    private readonly byte[] _nonce = new byte[12];
    private ChaCha20Poly1305 _dotnet = null!;
    private ChaChaPolyContext _openssl = null!;
    private ulong _counter;

    [GlobalSetup]
    public void Setup()
    {
        RandomNumberGenerator.Fill(_key);
        _dotnet = new ChaCha20Poly1305(_key);
        _openssl = new ChaChaPolyContext();
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _dotnet.Dispose();
        _openssl.Dispose();
    }

    [Benchmark(Baseline = true)]
    public void DotNetSeal()
    {
        Aead.WriteNonce(_nonce, _counter++);
        _dotnet.Encrypt(_nonce, _data, _data, _tag);
    }

    [Benchmark]
    public void OpenSslContextSeal() => _openssl.Seal(_key, _counter++, _data, _tag);

    [Benchmark]
    public bool DotNetOpenForged()
    {
        Aead.WriteNonce(_nonce, 1);
        try
        {
            _dotnet.Decrypt(_nonce, _data, _tag, _data);
            return true;
        }
        catch (AuthenticationTagMismatchException)
        {
            return false;
        }
    }

    [Benchmark]
    public bool OpenSslContextOpenForged() => _openssl.Open(_key, 1, _data, _tag);
}
