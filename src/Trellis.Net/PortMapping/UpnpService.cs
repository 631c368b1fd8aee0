namespace Trellis.Net.PortMapping;

/// <summary>An IGD's WAN connection service: where to POST its SOAP actions, and the service type they are named in.</summary>
public sealed record UpnpService(Uri ControlUrl, string ServiceType);
