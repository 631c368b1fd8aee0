namespace Trellis.Cli.Verbs.Admin;

/// <summary>A successful answer: the parsed value for tables, and the JSON exactly as the server sent it for --json.</summary>
internal sealed record AdminReply<T>(T Value, string Json);
