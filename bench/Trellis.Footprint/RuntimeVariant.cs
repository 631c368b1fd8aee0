namespace Trellis.Footprint;

/// <summary>
/// One way of running the daemon: runtime settings given as DOTNET_ environment variables, or another
/// executable (<paramref name="Executable"/>: the NativeAOT `trellis-node`) for the daemon and its verbs.
/// </summary>
internal sealed record RuntimeVariant(string Name, IReadOnlyDictionary<string, string> Environment, string? Executable = null)
{
    /// <summary>
    /// The variants of one run: today's first, then the knobs (unless left out), then the anchor's
    /// daemon (a NativeAOT `trellis-node` or an older JIT-run `trellis`) and this tree's NativeAOT one, then this tree's again with each of <paramref name="aotKnobs"/>
    /// ("DOTNET_NAME=VALUE", which NativeAOT reads at start as the JIT runtime does).
    /// </summary>
    public static IReadOnlyList<RuntimeVariant> For(bool knobs, string? aotNode, string? anchorNode, IReadOnlyList<string> aotKnobs) =>
    [
        .. knobs ? All : All.Take(1),
        .. anchorNode is null ? [] : new[] { new RuntimeVariant("anchor", new Dictionary<string, string>(), anchorNode) },
        .. aotNode is null ? [] : new[] { new RuntimeVariant("NativeAOT trellis-node", new Dictionary<string, string>(), aotNode) },
        .. aotNode is null ? [] : aotKnobs.Select(k => new RuntimeVariant($"NativeAOT, {k}", new Dictionary<string, string> { [k.Split('=', 2)[0]] = k.Split('=', 2)[1] }, aotNode)),
    ];

    /// <summary>
    /// Today's daemon first, then each knob alone, then the knobs together, so every row reads against the first.
    /// Workstation GC is already the default for the executable; these change what it keeps and what the JIT makes.
    /// </summary>
    public static IReadOnlyList<RuntimeVariant> All { get; } =
    [
        new("today", new Dictionary<string, string>()),
        new("GC: not concurrent", new Dictionary<string, string> { ["DOTNET_gcConcurrent"] = "0" }),
        new("GC: conserve memory", new Dictionary<string, string> { ["DOTNET_GCConserveMemory"] = "7" }),
        new("GC: 4 MiB gen0 budget", new Dictionary<string, string> { ["DOTNET_GCgen0size"] = "0x400000" }),
        new("JIT: no tiered PGO", new Dictionary<string, string> { ["DOTNET_TieredPGO"] = "0" }),
        new("JIT: no W^X double mapping", new Dictionary<string, string> { ["DOTNET_EnableWriteXorExecute"] = "0" }),
        new("all of the above", new Dictionary<string, string>
        {
            ["DOTNET_gcConcurrent"] = "0",
            ["DOTNET_GCConserveMemory"] = "7",
            ["DOTNET_GCgen0size"] = "0x400000",
            ["DOTNET_TieredPGO"] = "0",
            ["DOTNET_EnableWriteXorExecute"] = "0",
        }),
    ];
}
