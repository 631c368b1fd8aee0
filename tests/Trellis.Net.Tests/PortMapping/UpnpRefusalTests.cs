using System.Net;
using Trellis.Net.PortMapping;

namespace Trellis.Net.Tests.PortMapping;

/// <summary>
/// What a hostile LAN device can put in SSDP answers and descriptions: URLs pointing at other hosts,
/// DTDs, oversize bodies. Each is refused with a reason, and nothing is sent where it points.
/// </summary>
public sealed class UpnpRefusalTests
{
    private const string Type = "urn:schemas-upnp-org:service:WANIPConnection:1";

    // Another host on the loopback network: whatever reaches it would be a request the gateway chose the target of.
    private static readonly IPAddress OtherHost = IPAddress.Parse("127.0.0.2");

    [Fact]
    public async Task A_control_URL_on_another_host_is_refused_and_never_contacted()
    {
        using var other = new UpnpFakeIgd(Anything, OtherHost);
        using var igd = new UpnpFakeIgd((action, _) => action == "GET /rootDesc.xml"
            ? (200, DescriptionWithControl($"http://{OtherHost}:{other.HttpPort}/ctl/IPConn"))
            : Anything(action, ""));
        var client = UpnpClientTests.Patient(igd);

        Assert.Null(await client.MapUdpAsync(41641, TimeSpan.FromHours(1)));

        Assert.Empty(other.Requests);
        Assert.Contains($"control URL http://{OtherHost}:{other.HttpPort}/ctl/IPConn, which is not on the gateway's own address", client.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_URLBase_on_another_host_is_refused_and_never_contacted()
    {
        using var other = new UpnpFakeIgd(Anything, OtherHost);
        using var igd = new UpnpFakeIgd((action, _) => action == "GET /rootDesc.xml"
            ? (200, DescriptionWithControl("/ctl/IPConn", urlBase: $"http://{OtherHost}:{other.HttpPort}/"))
            : Anything(action, ""));
        var client = UpnpClientTests.Patient(igd);

        Assert.Null(await client.MapUdpAsync(41641, TimeSpan.FromHours(1)));

        Assert.Empty(other.Requests);
        Assert.Contains("not on the gateway's own address", client.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_description_URL_on_another_host_is_refused_and_never_contacted()
    {
        using var other = new UpnpFakeIgd(Anything, OtherHost);
        using var igd = new UpnpFakeIgd(Anything) { Location = $"http://{OtherHost}:{other.HttpPort}/rootDesc.xml" };
        var client = UpnpClientTests.Patient(igd);

        Assert.Null(await client.MapUdpAsync(41641, TimeSpan.FromHours(1)));

        Assert.Empty(other.Requests);
        Assert.Empty(igd.Requests);
        Assert.Contains($"description URL http://{OtherHost}:{other.HttpPort}/rootDesc.xml, which is not on the gateway's own address", client.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task A_description_with_a_DTD_is_refused()
    {
        // The entity expands to the service type: parsed with DTDs on, this description maps.
        var description = $"""
            <?xml version="1.0"?>
            <!DOCTYPE root [<!ENTITY wan "{Type}">]>
            <root xmlns="urn:schemas-upnp-org:device-1-0"><device><serviceList><service>
            <serviceType>&wan;</serviceType><controlURL>/ctl/IPConn</controlURL>
            </service></serviceList></device></root>
            """;
        using var igd = new UpnpFakeIgd((action, _) => action == "GET /rootDesc.xml" ? (200, description) : Anything(action, ""));
        var client = UpnpClientTests.Patient(igd);

        Assert.Null(await client.MapUdpAsync(41641, TimeSpan.FromHours(1)));

        Assert.Equal(["GET /rootDesc.xml"], igd.Requests.Select(r => r.Action));
        Assert.Contains("has a DTD", client.LastError, StringComparison.Ordinal);
    }

    [Fact]
    public async Task An_oversize_description_is_refused()
    {
        var description = DescriptionWithControl("/ctl/IPConn").Replace("<device>", $"<device><!--{new string('x', UpnpXml.MaxLength)}-->", StringComparison.Ordinal);
        using var igd = new UpnpFakeIgd((action, _) => action == "GET /rootDesc.xml" ? (200, description) : Anything(action, ""));
        var client = UpnpClientTests.Patient(igd);

        Assert.Null(await client.MapUdpAsync(41641, TimeSpan.FromHours(1)));

        Assert.Equal(["GET /rootDesc.xml"], igd.Requests.Select(r => r.Action));
        Assert.Contains($"larger than {UpnpXml.MaxLength} bytes", client.LastError, StringComparison.Ordinal);
    }

    private static string DescriptionWithControl(string controlUrl, string? urlBase = null) => $"""
        <?xml version="1.0"?>
        <root xmlns="urn:schemas-upnp-org:device-1-0">{(urlBase is null ? "" : $"<URLBase>{urlBase}</URLBase>")}<device><serviceList><service>
        <serviceType>{Type}</serviceType><controlURL>{controlUrl}</controlURL>
        </service></serviceList></device></root>
        """;

    /// <summary>A gateway that grants everything, so only the refusal under test can stop a mapping.</summary>
    private static (int Status, string Body) Anything(string action, string body) => action switch
    {
        "GET /rootDesc.xml" => (200, DescriptionWithControl("/ctl/IPConn")),
        Type + "#GetExternalIPAddress" => (200, Response("GetExternalIPAddress", "<NewExternalIPAddress>198.51.100.2</NewExternalIPAddress>")),
        Type + "#AddPortMapping" => (200, Response("AddPortMapping", "")),
        _ => (404, ""),
    };

    private static string Response(string action, string arguments) =>
        $"""<s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:{action}Response xmlns:u="{Type}">{arguments}</u:{action}Response></s:Body></s:Envelope>""";
}
