using System.Text;
using System.Xml.Linq;
using Trellis.Net.PortMapping;

namespace Trellis.Net.Tests.PortMapping;

/// <summary>SSDP replies, IGD descriptions and SOAP messages, including the malformed ones a LAN may send.</summary>
public sealed class UpnpParsingTests
{
    private static readonly Uri Location = new("http://192.168.1.1:5000/rootDesc.xml");

    /// <summary>A hand-written IGD v1 tree: the WAN connection sits two devices down, next to a distractor service.</summary>
    private const string Description = """
        <?xml version="1.0"?>
        <root xmlns="urn:schemas-upnp-org:device-1-0">
          <specVersion><major>1</major><minor>0</minor></specVersion>
          <device>
            <deviceType>urn:schemas-upnp-org:device:InternetGatewayDevice:1</deviceType>
            <serviceList>
              <service>
                <serviceType>urn:schemas-upnp-org:service:Layer3Forwarding:1</serviceType>
                <controlURL>/ctl/L3F</controlURL>
              </service>
            </serviceList>
            <deviceList>
              <device>
                <deviceType>urn:schemas-upnp-org:device:WANDevice:1</deviceType>
                <deviceList>
                  <device>
                    <deviceType>urn:schemas-upnp-org:device:WANConnectionDevice:1</deviceType>
                    <serviceList>
                      <service>
                        <serviceType>urn:schemas-upnp-org:service:WANPPPConnection:1</serviceType>
                        <controlURL>/ctl/PPPConn</controlURL>
                      </service>
                      <service>
                        <serviceType>urn:schemas-upnp-org:service:WANIPConnection:1</serviceType>
                        <controlURL> ctl/IPConn </controlURL>
                      </service>
                    </serviceList>
                  </device>
                </deviceList>
              </device>
            </deviceList>
          </device>
        </root>
        """;

    [Fact]
    public void An_SSDP_reply_gives_its_location_whatever_the_header_case()
    {
        var reply = "HTTP/1.1 200 OK\r\nCACHE-CONTROL: max-age=120\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n"
            + "location:  http://192.168.1.1:5000/rootDesc.xml\r\nSERVER: Debian/12 UPnP/1.1 MiniUPnPd/2.3.1\r\n\r\n";

        Assert.True(SsdpSearch.TryParseResponse(Encoding.ASCII.GetBytes(reply), out var location));
        Assert.Equal(Location, location);
    }

    [Theory]
    [InlineData("")]
    [InlineData("HTTP/1.1 404 Not Found\r\nLOCATION: http://192.168.1.1/x\r\n\r\n")]
    [InlineData("NOTIFY * HTTP/1.1\r\nLOCATION: http://192.168.1.1/x\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nLOCATION: file:///etc/passwd\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nLOCATION: /relative\r\n\r\n")]
    [InlineData("HTTP/1.1 200 OK\r\nST: x\r\n\r\n")]
    [InlineData("\0\xff garbage")]
    public void Other_datagrams_are_not_SSDP_replies(string reply) =>
        Assert.False(SsdpSearch.TryParseResponse(Encoding.Latin1.GetBytes(reply), out _));

    [Fact]
    public void An_oversized_datagram_is_not_an_SSDP_reply() =>
        Assert.False(SsdpSearch.TryParseResponse(new byte[SsdpSearch.MaxLength + 1], out _));

    [Fact]
    public void The_search_asks_for_an_IGD_with_MX_1()
    {
        var request = Encoding.ASCII.GetString(SsdpSearch.Request());

        Assert.StartsWith("M-SEARCH * HTTP/1.1\r\nHOST: 239.255.255.250:1900\r\n", request, StringComparison.Ordinal);
        Assert.Contains("MAN: \"ssdp:discover\"\r\nMX: 1\r\nST: urn:schemas-upnp-org:device:InternetGatewayDevice:1\r\n", request, StringComparison.Ordinal);
        Assert.EndsWith("\r\n\r\n", request, StringComparison.Ordinal);
    }

    [Fact]
    public void The_description_gives_the_WANIPConnection_control_URL_before_PPP()
    {
        Assert.True(UpnpDescription.TryFindService(Description, Location, out var service));

        Assert.Equal("urn:schemas-upnp-org:service:WANIPConnection:1", service.ServiceType);
        Assert.Equal(new Uri("http://192.168.1.1:5000/ctl/IPConn"), service.ControlUrl);
    }

    [Fact]
    public void URLBase_overrides_the_location_and_PPP_is_taken_when_alone()
    {
        var xml = Description.Replace("<specVersion>", "<URLBase>http://10.0.0.1:49000/</URLBase><specVersion>", StringComparison.Ordinal)
            .Replace("WANIPConnection:1", "Something:1", StringComparison.Ordinal);

        Assert.True(UpnpDescription.TryFindService(xml, Location, out var service));

        Assert.Equal("urn:schemas-upnp-org:service:WANPPPConnection:1", service.ServiceType);
        Assert.Equal(new Uri("http://10.0.0.1:49000/ctl/PPPConn"), service.ControlUrl);
    }

    [Theory]
    [InlineData("")]
    [InlineData("<root")]
    [InlineData("<root xmlns=\"urn:schemas-upnp-org:device-1-0\"><device/></root>")]
    [InlineData("<!DOCTYPE r [<!ENTITY x \"y\">]><root>&x;</root>")]
    public void A_description_without_a_WAN_connection_is_refused(string xml) =>
        Assert.False(UpnpDescription.TryFindService(xml, Location, out _));

    [Fact]
    public void Services_without_the_device_namespace_are_not_matched() =>
        Assert.False(UpnpDescription.TryFindService(Description.Replace(" xmlns=\"urn:schemas-upnp-org:device-1-0\"", "", StringComparison.Ordinal), Location, out _));

    [Fact]
    public void An_action_request_is_a_SOAP_envelope_with_arguments_in_order()
    {
        const string type = "urn:schemas-upnp-org:service:WANIPConnection:1";
        var xml = UpnpSoap.Request(type, "AddPortMapping", ("NewRemoteHost", ""), ("NewExternalPort", "41641"), ("NewPortMappingDescription", "a<b"));

        XNamespace s = "http://schemas.xmlsoap.org/soap/envelope/";
        var root = XDocument.Parse(xml).Root!;
        Assert.Equal(s + "Envelope", root.Name);
        Assert.Equal("http://schemas.xmlsoap.org/soap/encoding/", root.Attribute(s + "encodingStyle")?.Value);
        var action = root.Element(s + "Body")!.Elements().Single();
        Assert.Equal(XName.Get("AddPortMapping", type), action.Name);
        Assert.Equal(["NewRemoteHost", "NewExternalPort", "NewPortMappingDescription"], action.Elements().Select(e => e.Name.ToString()));
        Assert.Equal("a<b", action.Elements().Last().Value);
        Assert.Equal("\"urn:schemas-upnp-org:service:WANIPConnection:1#AddPortMapping\"", UpnpSoap.SoapAction(type, "AddPortMapping"));
    }

    [Fact]
    public void A_response_gives_its_out_arguments()
    {
        const string xml = """
            <?xml version="1.0"?>
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/" s:encodingStyle="http://schemas.xmlsoap.org/soap/encoding/"><s:Body>
            <u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewExternalIPAddress>198.51.100.2</NewExternalIPAddress></u:GetExternalIPAddressResponse>
            </s:Body></s:Envelope>
            """;

        Assert.True(UpnpSoap.TryParseResponse(xml, "GetExternalIPAddress", out var response));
        Assert.True(response.Succeeded);
        Assert.Equal("198.51.100.2", response.Values["NewExternalIPAddress"]);
        Assert.False(UpnpSoap.TryParseResponse(xml, "AddPortMapping", out _));
    }

    [Fact]
    public void A_fault_gives_the_UPnP_error_code()
    {
        const string xml = """
            <?xml version="1.0"?>
            <SOAP-ENV:Envelope xmlns:SOAP-ENV="http://schemas.xmlsoap.org/soap/envelope/"><SOAP-ENV:Body><SOAP-ENV:Fault>
            <faultcode>SOAP-ENV:Client</faultcode><faultstring>UPnPError</faultstring>
            <detail><UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>718</errorCode><errorDescription>ConflictInMappingEntry</errorDescription></UPnPError></detail>
            </SOAP-ENV:Fault></SOAP-ENV:Body></SOAP-ENV:Envelope>
            """;

        Assert.True(UpnpSoap.TryParseResponse(xml, "AddPortMapping", out var response));
        Assert.False(response.Succeeded);
        Assert.Equal(UpnpSoap.ConflictInMappingEntry, response.ErrorCode);
        Assert.Equal("ConflictInMappingEntry", response.ErrorDescription);
    }

    [Theory]
    [InlineData("")]
    [InlineData("<html>500 Internal Server Error</html>")]
    [InlineData("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body/></s:Envelope>")]
    [InlineData("<s:Envelope xmlns:s=\"http://schemas.xmlsoap.org/soap/envelope/\"><s:Body><u:Other xmlns:u=\"x\"/></s:Body>")]
    public void Anything_else_is_no_response(string xml) =>
        Assert.False(UpnpSoap.TryParseResponse(xml, "AddPortMapping", out _));

    [Fact]
    public void A_description_longer_than_the_bound_is_refused_before_parsing()
    {
        var padded = Description.Replace("<specVersion>", $"<!--{new string('x', UpnpXml.MaxLength)}--><specVersion>", StringComparison.Ordinal);

        Assert.False(UpnpDescription.TryFindService(padded, Location, out _));
    }

    [Fact]
    public void A_SOAP_answer_with_an_entity_is_refused()
    {
        const string xml = """
            <?xml version="1.0"?>
            <!DOCTYPE s:Envelope [<!ENTITY a "198.51.100.2">]>
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><u:GetExternalIPAddressResponse xmlns:u="urn:schemas-upnp-org:service:WANIPConnection:1"><NewExternalIPAddress>&a;</NewExternalIPAddress></u:GetExternalIPAddressResponse></s:Body></s:Envelope>
            """;

        Assert.False(UpnpSoap.TryParseResponse(xml, "GetExternalIPAddress", out _));
    }

    [Theory]
    [InlineData("http://192.168.1.1:5000/rootDesc.xml", true)]
    [InlineData("http://192.168.1.1/ctl/IPConn", true)]
    [InlineData("http://192.168.1.2:5000/ctl/IPConn", false)]
    [InlineData("http://169.254.169.254/latest/meta-data/", false)]
    [InlineData("http://router.lan:5000/rootDesc.xml", false)]
    [InlineData("https://192.168.1.1:5000/rootDesc.xml", false)]
    [InlineData("http://[::ffff:192.168.1.1]:5000/rootDesc.xml", false)]
    public void Only_http_to_the_gateway_s_own_address_is_followed(string url, bool followed) =>
        Assert.Equal(followed, UpnpGatewayUrl.IsOnGateway(new Uri(url), System.Net.IPAddress.Parse("192.168.1.1")));
}
