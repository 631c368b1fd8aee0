using System.Text;
using Trellis.Net.PortMapping;

namespace Trellis.Fuzz.Targets;

/// <summary>A SOAP answer (or fault) from the gateway's control URL, at most 64 KiB, read for both actions the client sends.</summary>
public static class UpnpSoapTarget
{
    public static bool Run(ReadOnlySpan<byte> input)
    {
        if (input.Length > UpnpXml.MaxLength)
        {
            return false; // the HTTP client refuses a longer body before it is parsed
        }

        var xml = Encoding.UTF8.GetString(input);
        return UpnpSoap.TryParseResponse(xml, "AddPortMapping", out _)
               | UpnpSoap.TryParseResponse(xml, "GetExternalIPAddress", out _);
    }
}
