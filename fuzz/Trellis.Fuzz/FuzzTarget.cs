namespace Trellis.Fuzz;

/// <summary>
/// Feeds one fuzzer input to a parser; only the parser's documented "invalid input" outcomes are
/// caught. Returns whether the parser accepted the input (so a corpus test can tell that its valid
/// seeds still reach past the checks); anything else escaping is a crash.
/// </summary>
public delegate bool FuzzAction(ReadOnlySpan<byte> input);

/// <summary>
/// A named fuzz target. <paramref name="Name"/> is also the folder of its corpus under
/// <c>fuzz/corpus</c>; <paramref name="Parses"/> says which code reads the bytes.
/// </summary>
public sealed record FuzzTarget(string Name, string Parses, FuzzAction Run);
