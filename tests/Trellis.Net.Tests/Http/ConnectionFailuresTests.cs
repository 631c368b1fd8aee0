using System.Net;
using System.Net.Security;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Security.Cryptography.X509Certificates;
using Trellis.Core.Transport;

namespace Trellis.Net.Tests.Http;

/// <summary>What an operator reads when Trellis cannot reach a server: the real cause, for each address tried.</summary>
public sealed class ConnectionFailuresTests
{
    [Fact]
    public async Task A_dual_stack_name_reports_every_address_tried_and_why()
    {
        var port = UnusedPort();
        var target = new DnsEndPoint("vpn.example.test", port);
        var failure = await Assert.ThrowsAsync<ConnectFailure>(async () => await AddressByAddressConnector.ConnectAsync(
            target, (_, _) => Task.FromResult(new[] { IPAddress.IPv6Loopback, IPAddress.Loopback }), null, CancellationToken.None));
        Assert.StartsWith("every address failed: ", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"[::1]:{port}: ", failure.Message, StringComparison.Ordinal);
        Assert.Contains($"127.0.0.1:{port}: Connection refused", failure.Message, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_name_whose_first_address_never_answers_reaches_the_next_within_the_connect_timeout()
    {
        // A dead replica's host refuses nothing, it is silent: here a listener whose accept queue of one is
        // full, so the kernel drops every further SYN. The live replica listens on the same port elsewhere.
        using var silent = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        silent.Bind(new IPEndPoint(IPAddress.Parse("127.0.0.2"), 0));
        silent.Listen(0);
        var port = ((IPEndPoint)silent.LocalEndPoint!).Port;
        using var filler = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
        await filler.ConnectAsync(silent.LocalEndPoint!);
        var live = new TcpListener(IPAddress.Loopback, port);
        live.Start();
        try
        {
            // Without a share of the timeout per address, the first attempt would wait until the caller gives up.
            using var caller = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            await using var stream = (NetworkStream)await AddressByAddressConnector.ConnectAsync(
                new DnsEndPoint("replicas.example.test", port),
                (_, _) => Task.FromResult(new[] { IPAddress.Parse("127.0.0.2"), IPAddress.Loopback }),
                TimeSpan.FromSeconds(2),
                caller.Token);
            Assert.Equal(new IPEndPoint(IPAddress.Loopback, port), stream.Socket.RemoteEndPoint);
        }
        finally
        {
            live.Stop();
        }
    }

    [Fact]
    public async Task A_name_that_does_not_resolve_says_so()
    {
        using var http = new HttpClient(AddressByAddressConnector.Handler(TimeSpan.FromSeconds(60)));
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync("http://no-such-host.invalid/key"));
        Assert.StartsWith("the name no-such-host.invalid does not resolve", ConnectionFailures.Describe(failure, "no-such-host.invalid"), StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_untrusted_certificate_says_it_is_not_trusted_and_how_to_trust_it()
    {
        using var key = ECDsa.Create(ECCurve.NamedCurves.nistP256);
        var request = new CertificateRequest("CN=127.0.0.1", key, HashAlgorithmName.SHA256);
        var san = new SubjectAlternativeNameBuilder();
        san.AddIpAddress(IPAddress.Loopback);
        request.CertificateExtensions.Add(san.Build());
        using var certificate = request.CreateSelfSigned(DateTimeOffset.UtcNow.AddMinutes(-5), DateTimeOffset.UtcNow.AddDays(1));
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var serving = Task.Run(async () =>
        {
            using var client = await listener.AcceptTcpClientAsync();
            await using var tls = new SslStream(client.GetStream());
            try
            {
                await tls.AuthenticateAsServerAsync(certificate);
            }
            catch (Exception e) when (e is IOException or System.Security.Authentication.AuthenticationException)
            {
                // the client gives up on the certificate, as it should
            }
        });

        using var http = new HttpClient(AddressByAddressConnector.Handler(TimeSpan.FromSeconds(30)));
        var failure = await Assert.ThrowsAsync<HttpRequestException>(() => http.GetAsync($"https://127.0.0.1:{((IPEndPoint)listener.LocalEndpoint).Port}/key"));
        var described = ConnectionFailures.Describe(failure, "127.0.0.1");
        Assert.StartsWith("the server's TLS certificate is not trusted by this machine (", described, StringComparison.Ordinal);
        Assert.EndsWith(ConnectionFailures.TrustHint, described, StringComparison.Ordinal);
        await serving;
    }

    private static int UnusedPort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
