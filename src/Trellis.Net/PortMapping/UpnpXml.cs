using System.Xml;
using System.Xml.Linq;

namespace Trellis.Net.PortMapping;

/// <summary>
/// Parses the XML a LAN device sends (descriptions, SOAP answers): bounded in size before parsing, no
/// DTD (an internal subset is how entity expansion bombs and external entities get in) and no resolver,
/// so nothing the document names is ever fetched.
/// </summary>
public static class UpnpXml
{
    /// <summary>Bound on a body, counted in bytes on the wire and in characters here; IGD documents are a few KiB.</summary>
    public const int MaxLength = 64 * 1024;

    private static readonly XmlReaderSettings Settings = new()
    {
        DtdProcessing = DtdProcessing.Prohibit,
        XmlResolver = null,
        MaxCharactersInDocument = MaxLength,
        MaxCharactersFromEntities = 0,
        IgnoreWhitespace = true,
    };

    /// <summary>The document, or null (with the reason) when it is too long, has a DTD, or is not XML.</summary>
    public static XDocument? TryParse(string? xml, out string? error)
    {
        error = null;
        if (string.IsNullOrEmpty(xml))
        {
            error = "the document is empty";
            return null;
        }

        if (xml.Length > MaxLength)
        {
            error = $"the document is longer than {MaxLength} characters";
            return null;
        }

        try
        {
            using var reader = XmlReader.Create(new StringReader(xml), Settings);
            return XDocument.Load(reader);
        }
        catch (XmlException e)
        {
            error = xml.Contains("<!DOCTYPE", StringComparison.OrdinalIgnoreCase)
                ? "the document has a DTD, which UPnP documents never need"
                : $"the document is not well-formed XML: {e.Message}";
            return null;
        }
    }
}
