namespace Trellis.Node.Engine;

/// <summary>The path that answered a discovery ping first: "direct" or "peer-relay" via <paramref name="Endpoint"/>, or "relay" via <paramref name="Relay"/>.</summary>
public sealed record EnginePing(string Path, string? Endpoint, string? Relay, TimeSpan RoundTrip);
