using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Trellis.Control.Tests.NodeProtocol;

namespace Trellis.Control.Tests.Server;

/// <summary>`--listen https://...` with `--tls-cert`/`--tls-key`: the node protocol and the API over TLS.</summary>
public sealed class TlsListenerTests : IDisposable
{
    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-tls-").FullName;

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private (X509Certificate2 Certificate, string CertPath, string KeyPath) SelfSigned()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(System.Net.IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        var now = DateTimeOffset.UtcNow;
        var certificate = request.CreateSelfSigned(now.AddMinutes(-5), now.AddDays(1));
        var certPath = Path.Combine(_dir, "tls.crt");
        var keyPath = Path.Combine(_dir, "tls.key");
        File.WriteAllText(certPath, certificate.ExportCertificatePem());
        File.WriteAllText(keyPath, key.ExportPkcs8PrivateKeyPem());
        return (certificate, certPath, keyPath);
    }

    [Fact]
    public async Task Nodes_register_and_stream_their_map_over_TLS_and_plain_HTTP_gets_no_answer()
    {
        var (certificate, certPath, keyPath) = SelfSigned();
        using var _ = certificate;
        await using var server = await ControlServerFixture.StartAsync(o => o with { Listen = "https://127.0.0.1:0", TlsCertificate = certPath, TlsKey = keyPath });
        Assert.Equal("https", server.Url.Scheme);

        var key = await server.AuthKeyAsync();
        await using var a = new SimulatedNode(server.Url, "a", certificate);
        await using var b = new SimulatedNode(server.Url, "b", certificate);
        foreach (var node in new[] { a, b })
        {
            await node.ConnectAsync();
            Assert.Equal("active", (await node.RegisterAsync(key)).Status);
            await node.StartMapAsync();
        }

        await SimulatedNode.WaitAsync(() => a.Peers.Count == 1 && b.Peers.Count == 1, "each node to see the other over TLS");

        // The same port does not speak plain HTTP.
        using var http = new HttpClient();
        await Assert.ThrowsAnyAsync<HttpRequestException>(() => http.GetAsync(new UriBuilder(server.Url) { Scheme = "http", Path = "/key" }.Uri));
    }

    [Fact]
    public async Task A_client_that_does_not_trust_the_certificate_is_refused_by_its_own_TLS_check()
    {
        var (certificate, certPath, keyPath) = SelfSigned();
        using var _ = certificate;
        await using var server = await ControlServerFixture.StartAsync(o => o with { Listen = "https://127.0.0.1:0", TlsCertificate = certPath, TlsKey = keyPath });
        await using var node = new SimulatedNode(server.Url, "untrusting");
        var error = await Assert.ThrowsAnyAsync<HttpRequestException>(node.ConnectAsync);
        Assert.IsType<System.Security.Authentication.AuthenticationException>(error.InnerException);
    }
}
