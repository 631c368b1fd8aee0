using System.Globalization;
using System.Xml.Linq;

namespace Trellis.Net.PortMapping;

/// <summary>SOAP 1.1 control messages of UPnP Device Architecture §3.2: action requests, their responses and UPnPError faults.</summary>
public static class UpnpSoap
{
    /// <summary>WANIPConnection error codes this client acts on.</summary>
    public const int ConflictInMappingEntry = 718;
    public const int OnlyPermanentLeasesSupported = 725;

    private static readonly XNamespace Envelope = "http://schemas.xmlsoap.org/soap/envelope/";
    private static readonly XNamespace Encoding = "http://schemas.xmlsoap.org/soap/encoding/";

    /// <summary>The SOAPACTION header value, quoted as §3.2.1 requires.</summary>
    public static string SoapAction(string serviceType, string action) => $"\"{serviceType}#{action}\"";

    /// <summary>An action request; arguments are unqualified elements in the order given (the order the service defines).</summary>
    public static string Request(string serviceType, string action, params (string Name, string Value)[] arguments)
    {
        XNamespace service = serviceType;
        var body = new XElement(service + action, new XAttribute(XNamespace.Xmlns + "u", serviceType));
        foreach (var (name, value) in arguments)
        {
            body.Add(new XElement(name, value));
        }

        var envelope = new XElement(
            Envelope + "Envelope",
            new XAttribute(XNamespace.Xmlns + "s", Envelope.NamespaceName),
            new XAttribute(Envelope + "encodingStyle", Encoding.NamespaceName),
            new XElement(Envelope + "Body", body));
        return "<?xml version=\"1.0\"?>\n" + envelope.ToString(SaveOptions.DisableFormatting);
    }

    /// <summary>
    /// Parses an action response (its out arguments by name) or a fault (its UPnP errorCode); false
    /// when the body is neither (or has a DTD, or is longer than <see cref="UpnpXml.MaxLength"/>).
    /// Element names are matched by local name: IGDs differ on prefixes.
    /// </summary>
    public static bool TryParseResponse(string xml, string action, out UpnpSoapResponse response)
    {
        response = default;
        var body = UpnpXml.TryParse(xml, out _)?.Root?.Elements().FirstOrDefault(e => e.Name.LocalName == "Body");

        var content = body?.Elements().FirstOrDefault();
        if (content is null)
        {
            return false;
        }

        if (content.Name.LocalName == "Fault")
        {
            var error = content.Descendants().FirstOrDefault(e => e.Name.LocalName == "UPnPError");
            var code = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "errorCode")?.Value.Trim();
            var description = error?.Elements().FirstOrDefault(e => e.Name.LocalName == "errorDescription")?.Value.Trim();
            response = new UpnpSoapResponse(
                new Dictionary<string, string>(),
                int.TryParse(code, NumberStyles.Integer, CultureInfo.InvariantCulture, out var number) ? number : -1,
                description ?? content.Elements().FirstOrDefault(e => e.Name.LocalName == "faultstring")?.Value);
            return true;
        }

        if (content.Name.LocalName != action + "Response")
        {
            return false;
        }

        var values = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var argument in content.Elements())
        {
            values[argument.Name.LocalName] = argument.Value.Trim();
        }

        response = new UpnpSoapResponse(values, 0, null);
        return true;
    }
}
