using Trellis.Net.PortMapping;

namespace Trellis.Fuzz.Tests;

/// <summary>
/// Found with the UPnP targets' corpora: XDocument.Parse expands a DTD's entities (up to 10 million
/// characters), so any LAN host answering SSDP could make the node spend seconds of CPU on a 1 KiB
/// description. Gateways send no DTD; one is now refused like any malformed answer.
/// </summary>
public sealed class UpnpDtdTests
{
    private const string Dtd = """<!DOCTYPE root [<!ENTITY t "urn:schemas-upnp-org:service:WANIPConnection:1"><!ENTITY c "718">]>""";

    [Fact]
    public void A_description_that_declares_a_DTD_is_refused_rather_than_its_entities_expanded()
    {
        var xml = $"""
            <?xml version="1.0"?>{Dtd}
            <root xmlns="urn:schemas-upnp-org:device-1-0"><device><serviceList><service>
              <serviceType>&t;</serviceType><controlURL>/ctl/IPConn</controlURL>
            </service></serviceList></device></root>
            """;

        Assert.False(UpnpDescription.TryFindService(xml, new Uri("http://192.168.1.1:5000/rootDesc.xml"), out _));
    }

    [Fact]
    public void A_SOAP_answer_that_declares_a_DTD_is_refused_rather_than_its_entities_expanded()
    {
        var xml = $"""
            <?xml version="1.0"?>{Dtd}
            <s:Envelope xmlns:s="http://schemas.xmlsoap.org/soap/envelope/"><s:Body><s:Fault><detail>
              <UPnPError xmlns="urn:schemas-upnp-org:control-1-0"><errorCode>&c;</errorCode></UPnPError>
            </detail></s:Fault></s:Body></s:Envelope>
            """;

        Assert.False(UpnpSoap.TryParseResponse(xml, "AddPortMapping", out _));
    }
}
