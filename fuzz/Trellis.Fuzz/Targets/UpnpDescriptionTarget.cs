using System.Text;
using Trellis.Net.PortMapping;

namespace Trellis.Fuzz.Targets;

/// <summary>The root device description an SSDP reply pointed at, as the HTTP client hands it over (text, at most 64 KiB).</summary>
public static class UpnpDescriptionTarget
{
    private static readonly Uri Location = new("http://192.168.1.1:5000/rootDesc.xml");

    public static bool Run(ReadOnlySpan<byte> input)
    {
        if (input.Length > UpnpXml.MaxLength)
        {
            return false; // the HTTP client refuses a longer body before it is parsed
        }

        return UpnpDescription.TryFindService(Encoding.UTF8.GetString(input), Location, out _);
    }
}
