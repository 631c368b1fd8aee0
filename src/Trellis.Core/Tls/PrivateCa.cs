using System.Net.Security;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;

namespace Trellis.Core.Tls;

/// <summary>
/// A private certificate authority given with --ca-cert FILE, trusted in addition to the system's
/// roots by every TLS client Trellis opens (control HTTP and WebSocket, relay connections, the admin
/// CLI, a relay's admission queries). The chain is checked by .NET itself against the system roots
/// plus these, so a refusal keeps its usual cause ("PartialChain", "RemoteCertificateNameMismatch").
/// </summary>
public sealed class PrivateCa
{
    /// <summary>The environment variable that names the file when no --ca-cert is given.</summary>
    public const string EnvironmentVariable = "TRELLIS_CA_CERT";

    private readonly X509ChainPolicy _policy;

    private PrivateCa(string path, X509Certificate2Collection certificates)
    {
        Path = path;
        Certificates = certificates;
        _policy = new X509ChainPolicy
        {
            TrustMode = X509ChainTrustMode.CustomRootTrust,
            // As SslStream does without a policy: private CAs rarely publish revocation lists.
            RevocationMode = X509RevocationMode.NoCheck,
        };
        _policy.CustomTrustStore.AddRange(SystemRoots.Value);
        _policy.CustomTrustStore.AddRange(certificates);
    }

    public string Path { get; }

    /// <summary>Every certificate the file holds (a bundle may hold several CAs).</summary>
    public X509Certificate2Collection Certificates { get; }

    // The machine's roots (which honour SSL_CERT_FILE and SSL_CERT_DIR), read once per process.
    private static readonly Lazy<X509Certificate2Collection> SystemRoots = new(() =>
    {
        using var store = new X509Store(StoreName.Root, StoreLocation.LocalMachine);
        store.Open(OpenFlags.ReadOnly | OpenFlags.OpenExistingOnly);
        return store.Certificates;
    });

    /// <summary>Reads the PEM file; a missing, unreadable or certificate-less file is an error naming it.</summary>
    /// <exception cref="InvalidDataException">The file cannot serve as a CA (the message says why).</exception>
    public static PrivateCa Load(string path)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(path);
        var certificates = new X509Certificate2Collection();
        try
        {
            certificates.ImportFromPemFile(path);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new InvalidDataException($"cannot read the CA certificate file {path}: {e.Message}", e);
        }
        catch (CryptographicException e)
        {
            throw new InvalidDataException($"the CA certificate file {path} is not valid PEM: {e.Message}", e);
        }

        if (certificates.Count == 0)
        {
            throw new InvalidDataException($"the CA certificate file {path} holds no certificate (expected PEM: -----BEGIN CERTIFICATE-----)");
        }

        return new PrivateCa(path, certificates);
    }

    /// <summary><paramref name="flag"/> if given, else $TRELLIS_CA_CERT, else null: no CA beyond the system's.</summary>
    public static PrivateCa? FromFlagOrEnvironment(string? flag)
    {
        var path = string.IsNullOrWhiteSpace(flag) ? Environment.GetEnvironmentVariable(EnvironmentVariable) : flag;
        return string.IsNullOrWhiteSpace(path) ? null : Load(path.Trim());
    }

    /// <summary>Makes a TLS client trust this CA beside the system's roots.</summary>
    public void ApplyTo(SslClientAuthenticationOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        options.CertificateChainPolicy = _policy.Clone();
    }

    /// <summary>
    /// The same trust for a client that only takes a validation callback (a WebSocket opened without
    /// a handler): the name must match, and the chain must end at a system root or this CA.
    /// </summary>
    public bool Validate(object sender, X509Certificate? certificate, X509Chain? chain, SslPolicyErrors errors)
    {
        if (errors == SslPolicyErrors.None)
        {
            return true;
        }

        if (errors != SslPolicyErrors.RemoteCertificateChainErrors || certificate is null)
        {
            return false;
        }

        using var ours = new X509Chain { ChainPolicy = _policy.Clone() };
        if (chain is not null)
        {
            foreach (var element in chain.ChainElements)
            {
                ours.ChainPolicy.ExtraStore.Add(element.Certificate);
            }
        }

        if (certificate is X509Certificate2 leaf)
        {
            return ours.Build(leaf);
        }

        using var copy = X509CertificateLoader.LoadCertificate(certificate.GetRawCertData());
        return ours.Build(copy);
    }
}
