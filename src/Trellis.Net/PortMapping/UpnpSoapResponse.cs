namespace Trellis.Net.PortMapping;

/// <summary>A parsed control response: out arguments on success (<see cref="ErrorCode"/> 0), else the UPnP error code (-1 when the fault had none).</summary>
public readonly record struct UpnpSoapResponse(IReadOnlyDictionary<string, string> Values, int ErrorCode, string? ErrorDescription)
{
    public bool Succeeded => ErrorCode == 0 && Values is not null;
}
