namespace Trellis.Fuzz.Tests;

/// <summary>
/// Every fuzz target's corpus (fuzz/corpus/TARGET: seeds, and the crashers afl-fuzz found) replayed
/// through the target as CI runs it: no input may throw past the parser's documented rejections or
/// hang, valid seeds must still be accepted and near-valid ones refused.
/// </summary>
public sealed class CorpusReplayTests
{
    // A safety net for a hang only: the whole corpus of a target takes well under a second.
    private static readonly TimeSpan HangLimit = TimeSpan.FromSeconds(120);

    private static string CorpusRoot => Path.Combine(AppContext.BaseDirectory, "corpus");

    public static TheoryData<string> Targets() => new(FuzzTargets.All.Select(t => t.Name));

    [Theory]
    [MemberData(nameof(Targets))]
    public async Task Target_handles_its_whole_corpus_accepting_valid_seeds_and_refusing_broken_ones(string name)
    {
        var target = FuzzTargets.Find(name)!;
        var directory = Path.Combine(CorpusRoot, name);
        Assert.True(Directory.Exists(directory), $"the target '{name}' has no corpus: run 'trellis-fuzz seed fuzz/corpus' and commit fuzz/corpus/{name}");
        var files = Directory.GetFiles(directory).Order(StringComparer.Ordinal).ToArray();
        Assert.True(files.Length >= 3, $"fuzz/corpus/{name} holds {files.Length} inputs; a target needs at least a few valid and near-valid seeds");

        var accepted = new List<string>();
        var refused = new List<string>();
        var replay = Task.Run(() =>
        {
            foreach (var file in files)
            {
                bool ok;
                try
                {
                    ok = target.Run(File.ReadAllBytes(file));
                }
                catch (Exception e)
                {
                    throw new InvalidOperationException($"fuzz/corpus/{name}/{Path.GetFileName(file)} crashes {target.Parses}: {e.GetType().Name}: {e.Message}", e);
                }

                (ok ? accepted : refused).Add(Path.GetFileName(file));
            }
        });

        var finished = await Task.WhenAny(replay, Task.Delay(HangLimit)) == replay;
        Assert.True(finished, $"replaying fuzz/corpus/{name} did not finish within {HangLimit.TotalSeconds} s: an input hangs {target.Parses}");
        await replay;
        Assert.NotEmpty(accepted);
        Assert.NotEmpty(refused);
    }

    [Fact]
    public void Every_corpus_folder_belongs_to_a_target()
    {
        var names = FuzzTargets.All.Select(t => t.Name).ToHashSet();
        var orphans = Directory.GetDirectories(CorpusRoot).Select(Path.GetFileName).Where(d => !names.Contains(d!)).ToList();
        Assert.True(orphans.Count == 0, $"corpus folders without a fuzz target (rename them or add the target to FuzzTargets): {string.Join(", ", orphans)}");
    }
}
