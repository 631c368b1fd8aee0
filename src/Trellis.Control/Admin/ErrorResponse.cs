namespace Trellis.Control.Admin;

/// <summary>Every admin API failure: one sentence for a person, never internals.</summary>
public sealed record ErrorResponse(string Error);
