using System.Runtime.Versioning;

// The lab drives Linux network namespaces, veth pairs and TUN devices; nothing here runs elsewhere.
[assembly: SupportedOSPlatform("linux")]
