using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography.X509Certificates;
using System.Text;
using Trellis.Core.Tls;
using Trellis.Core.Transport;
using Trellis.Testing;

namespace Trellis.Net.Tests.Http;

/// <summary>
/// --ca-cert: a server whose certificate comes from a private CA is reached when that CA is given,
/// refused with the "not trusted; --ca-cert" explanation when it is not (or another CA is given),
/// and a bad CA file is reported by name.
/// </summary>
public sealed class PrivateCaTests : IDisposable
{
    private readonly TestCertificateAuthority _ca = new();
    private readonly string _directory = Directory.CreateTempSubdirectory("trellis-privateca-").FullName;

    public void Dispose()
    {
        _ca.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Fact]
    public async Task A_server_of_the_private_ca_is_reached_when_the_ca_is_given()
    {
        using var server = new TlsServer(_ca.Issue(IPAddress.Loopback));
        using var http = new HttpClient(AddressByAddressConnector.Handler(TimeSpan.FromSeconds(30), PrivateCa.Load(WriteCa(_ca))));
        Assert.Equal("ok", await http.GetStringAsync(server.Url));
    }

    [Fact]
    public async Task Without_the_ca_or_with_another_the_server_is_not_trusted_and_the_error_names_ca_cert()
    {
        using var server = new TlsServer(_ca.Issue(IPAddress.Loopback));
        using var other = new TestCertificateAuthority("Another CA");
        foreach (var ca in new[] { null, PrivateCa.Load(WriteCa(other)) })
        {
            using var http = new HttpClient(AddressByAddressConnector.Handler(TimeSpan.FromSeconds(30), ca));
            var failure = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync(server.Url));
            var described = ConnectionFailures.Describe(failure, "127.0.0.1");
            Assert.StartsWith("the server's TLS certificate is not trusted by this machine (", described, StringComparison.Ordinal);
            Assert.Contains("--ca-cert FILE", described, StringComparison.Ordinal);
        }
    }

    [Fact]
    public async Task The_callback_form_trusts_the_same_chain_and_still_checks_the_name()
    {
        var ca = PrivateCa.Load(WriteCa(_ca));
        using var server = new TlsServer(_ca.Issue(IPAddress.Loopback));
        Assert.True(await HandshakeAsync(server.Port, "127.0.0.1", ca.Validate));
        Assert.False(await HandshakeAsync(server.Port, "127.0.0.2", ca.Validate));
    }

    [Fact]
    public void A_missing_or_certificate_less_file_is_reported_by_name()
    {
        var missing = Path.Combine(_directory, "missing.pem");
        Assert.Contains(missing, Assert.Throws<InvalidDataException>(() => PrivateCa.Load(missing)).Message, StringComparison.Ordinal);

        var empty = Path.Combine(_directory, "empty.pem");
        File.WriteAllText(empty, "not a certificate\n");
        var message = Assert.Throws<InvalidDataException>(() => PrivateCa.Load(empty)).Message;
        Assert.Contains(empty, message, StringComparison.Ordinal);
        Assert.Contains("holds no certificate", message, StringComparison.Ordinal);
    }

    private string WriteCa(TestCertificateAuthority ca)
    {
        var path = Path.Combine(_directory, $"ca-{Guid.NewGuid():N}.pem");
        File.WriteAllText(path, ca.CertificatePem);
        return path;
    }

    private static async Task<bool> HandshakeAsync(int port, string host, RemoteCertificateValidationCallback validate)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(IPAddress.Loopback, port);
        await using var tls = new SslStream(client.GetStream(), leaveInnerStreamOpen: false, validate);
        try
        {
            await tls.AuthenticateAsClientAsync(host);
            return true;
        }
        catch (System.Security.Authentication.AuthenticationException)
        {
            return false;
        }
    }

    /// <summary>Answers every connection's request with "ok" over TLS with <paramref name="certificate"/>, until disposed.</summary>
    private sealed class TlsServer : IDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly X509Certificate2 _certificate;

        public TlsServer(X509Certificate2 certificate)
        {
            _certificate = certificate;
            _listener.Start();
            _ = Task.Run(AcceptAsync);
        }

        public int Port => ((IPEndPoint)_listener.LocalEndpoint).Port;

        public string Url => $"https://127.0.0.1:{Port}/";

        public void Dispose()
        {
            _listener.Dispose();
            _certificate.Dispose();
        }

        private async Task AcceptAsync()
        {
            while (true)
            {
                TcpClient client;
                try
                {
                    client = await _listener.AcceptTcpClientAsync();
                }
                catch (Exception e) when (e is ObjectDisposedException or SocketException)
                {
                    return;
                }

                _ = Task.Run(() => ServeAsync(client));
            }
        }

        private async Task ServeAsync(TcpClient client)
        {
            using (client)
            {
                try
                {
                    await using var tls = new SslStream(client.GetStream());
                    await tls.AuthenticateAsServerAsync(_certificate);
                    var buffer = new byte[4096];
                    var request = "";
                    while (!request.Contains("\r\n\r\n", StringComparison.Ordinal))
                    {
                        var read = await tls.ReadAsync(buffer);
                        if (read == 0)
                        {
                            return;
                        }

                        request += Encoding.ASCII.GetString(buffer, 0, read);
                    }

                    await tls.WriteAsync("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"u8.ToArray());
                }
                catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
                {
                    // a client that refused the certificate
                }
            }
        }
    }
}
