namespace Trellis.Core.Transport;

/// <summary>A TCP connection to a named server failed; the message says why for each address tried, or that the name does not resolve.</summary>
public sealed class ConnectFailure(string message, Exception? inner = null) : IOException(message, inner);
