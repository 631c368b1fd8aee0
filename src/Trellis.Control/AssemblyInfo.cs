using System.Runtime.Versioning;

// The control server runs on Linux (Unix sockets, file modes); nothing here targets Windows.
[assembly: SupportedOSPlatform("linux")]
