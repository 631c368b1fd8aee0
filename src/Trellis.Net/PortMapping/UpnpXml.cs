using System.Xml;
using System.Xml.Linq;

namespace Trellis.Net.PortMapping;

/// <summary>
/// Parses XML from the gateway (or from any LAN host that answered SSDP) with DTDs refused: no IGD
/// sends one, and XDocument.Parse would expand entities up to 10 million characters, seconds of CPU
/// for a 1 KiB answer. A DTD is an <see cref="XmlException"/>, like any other malformed answer.
/// </summary>
internal static class UpnpXml
{
    public static XDocument Parse(string xml)
    {
        // IgnoreWhitespace as XDocument.Parse does.
        var settings = new XmlReaderSettings { DtdProcessing = DtdProcessing.Prohibit, IgnoreWhitespace = true };
        using var reader = XmlReader.Create(new StringReader(xml), settings);
        return XDocument.Load(reader);
    }
}
