using System.Net;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Trellis.Crypto;
using Trellis.Relay.Client;
using Trellis.Relay.Server;

namespace Trellis.Relay.Tests;

public class TlsTests
{
    private static X509Certificate2 SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=relay.test", key, HashAlgorithmName.SHA256);
        var names = new SubjectAlternativeNameBuilder();
        names.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(names.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddHours(1));
        return X509CertificateLoader.LoadPkcs12(certificate.Export(X509ContentType.Pkcs12), null);
    }

    [Fact]
    public async Task Both_transports_work_over_https()
    {
        using var certificate = SelfSigned();
        await using var relay = await RelayHost.StartAsync(TestRelay.Options(), "https://127.0.0.1:0", certificate);
        Assert.Equal("https", relay.RelayUrl.Scheme);
        RelayClientOptions Trusting(RelayClientOptions o) => o with { CertificateValidation = (_, cert, _, _) => cert?.GetCertHashString() == certificate.GetCertHashString() };

        await using var a = TestRelay.Client(relay, configure: o => Trusting(o) with { Transport = RelayTransport.Upgrade });
        await using var b = TestRelay.Client(relay, configure: o => Trusting(o) with { Transport = RelayTransport.WebSocket });
        await a.ConnectAsync();
        await b.ConnectAsync();
        await PacketExchange.BothWaysAsync(a, b, 200);

        await using var untrusting = TestRelay.Client(relay, configure: o => o with { Transport = RelayTransport.Upgrade });
        var refused = await Assert.ThrowsAsync<RelayConnectException>(() => untrusting.ConnectAsync());
        AssertSaysNotTrusted(refused.Message);
    }

    [Fact]
    public async Task A_standalone_relay_that_does_not_trust_the_control_server_says_so()
    {
        // The control server here is any HTTPS server with a certificate this machine does not trust.
        using var certificate = SelfSigned();
        await using var untrusted = await RelayHost.StartAsync(TestRelay.Options(), "https://127.0.0.1:0", certificate);
        using var admission = new ControlServerAdmission(untrusted.RelayUrl, "mesh-key");

        var failure = await Assert.ThrowsAsync<AdmissionUnavailableException>(
            async () => await admission.IsAllowedAsync(X25519.PublicKey(X25519.GeneratePrivateKey()), CancellationToken.None));
        AssertSaysNotTrusted(failure.Message);
    }

    private static void AssertSaysNotTrusted(string message)
    {
        Assert.Contains("TLS certificate is not trusted", message, StringComparison.Ordinal);
        Assert.Contains("--ca-cert", message, StringComparison.Ordinal);
        Assert.DoesNotContain("inner exception", message, StringComparison.Ordinal);
    }
}
