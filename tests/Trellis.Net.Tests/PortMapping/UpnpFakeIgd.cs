using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Trellis.Net.Tests.PortMapping;

/// <summary>An IGD on a loopback address: answers any M-SEARCH with its description's location, and serves HTTP the test scripts.</summary>
internal sealed class UpnpFakeIgd : IDisposable
{
    private readonly Socket _ssdp = new(AddressFamily.InterNetwork, SocketType.Dgram, ProtocolType.Udp);
    private readonly TcpListener _http;
    private readonly Func<string, string, (int Status, string Body)> _answer;
    private readonly CancellationTokenSource _stop = new();

    /// <param name="answer">(SOAPAction or "GET path", request body) to (status, body).</param>
    /// <param name="address">Where it listens (127.0.0.1 unless a test needs a second host).</param>
    public UpnpFakeIgd(Func<string, string, (int Status, string Body)> answer, IPAddress? address = null)
    {
        _answer = answer;
        address ??= IPAddress.Loopback;
        _http = new TcpListener(address, 0);
        _ssdp.Bind(new IPEndPoint(address, 0));
        _http.Start();
        Location = $"http://{address}:{HttpPort}/rootDesc.xml";
        _ = Task.Run(ServeSsdpAsync);
        _ = Task.Run(ServeHttpAsync);
    }

    public int SsdpPort => ((IPEndPoint)_ssdp.LocalEndPoint!).Port;

    public int HttpPort => ((IPEndPoint)_http.LocalEndpoint).Port;

    /// <summary>The LOCATION its SSDP answers give: its own description unless a test says otherwise.</summary>
    public string Location { get; set; }

    /// <summary>Each request's SOAPAction (or "GET path") and body.</summary>
    public ConcurrentQueue<(string Action, string Body)> Requests { get; } = new();

    public void Dispose()
    {
        _stop.Cancel();
        _ssdp.Dispose();
        _http.Stop();
        _stop.Dispose();
    }

    private async Task ServeSsdpAsync()
    {
        var buffer = new byte[2048];
        try
        {
            while (true)
            {
                var received = await _ssdp.ReceiveFromAsync(buffer, SocketFlags.None, new IPEndPoint(IPAddress.Any, 0), _stop.Token);
                var reply = $"HTTP/1.1 200 OK\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\nLOCATION: {Location}\r\n\r\n";
                await _ssdp.SendToAsync(Encoding.ASCII.GetBytes(reply), SocketFlags.None, received.RemoteEndPoint);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException)
        {
        }
    }

    private async Task ServeHttpAsync()
    {
        try
        {
            while (true)
            {
                using var client = await _http.AcceptTcpClientAsync(_stop.Token);
                var stream = client.GetStream();
                var reader = new StreamReader(stream, Encoding.UTF8);
                var requestLine = await reader.ReadLineAsync() ?? "";
                string action = "GET " + requestLine.Split(' ')[1];
                var length = 0;
                for (var line = await reader.ReadLineAsync(); !string.IsNullOrEmpty(line); line = await reader.ReadLineAsync())
                {
                    var (name, value) = (line[..line.IndexOf(':', StringComparison.Ordinal)], line[(line.IndexOf(':', StringComparison.Ordinal) + 1)..].Trim());
                    if (name.Equals("SOAPAction", StringComparison.OrdinalIgnoreCase))
                    {
                        action = value.Trim('"');
                    }
                    else if (name.Equals("Content-Length", StringComparison.OrdinalIgnoreCase))
                    {
                        length = int.Parse(value, System.Globalization.CultureInfo.InvariantCulture);
                    }
                }

                var body = new char[length];
                var read = 0;
                while (read < length)
                {
                    read += await reader.ReadAsync(body.AsMemory(read));
                }

                Requests.Enqueue((action, new string(body)));
                var (status, text) = _answer(action, new string(body));
                var bytes = Encoding.UTF8.GetBytes(text);
                var head = $"HTTP/1.1 {status} X\r\nContent-Type: text/xml\r\nContent-Length: {bytes.Length}\r\nConnection: close\r\n\r\n";
                await stream.WriteAsync(Encoding.ASCII.GetBytes(head));
                await stream.WriteAsync(bytes);
            }
        }
        catch (Exception e) when (e is OperationCanceledException or ObjectDisposedException or SocketException or IOException)
        {
        }
    }
}
