using System.Diagnostics;
using Trellis.Lab;

namespace Trellis.Packaging.Tests;

/// <summary>
/// The self-contained executables of scripts/publish.sh for linux-x64, published once for every test of
/// <see cref="PublishedTrellisCollection"/> (minutes on a busy machine); set TRELLIS_PUBLISHED to a
/// directory scripts/publish.sh wrote to reuse it.
/// </summary>
public sealed class PublishedTrellis : IAsyncLifetime
{
    private const string PublishedVariable = "TRELLIS_PUBLISHED";
    private static readonly TimeSpan PublishTimeout = TimeSpan.FromMinutes(30);

    private string? _ownDirectory;

    /// <summary>The directory holding linux-x64/trellis (and linux-x64/trellis-node).</summary>
    public string Directory { get; private set; } = "";

    /// <summary>The single-file `trellis`.</summary>
    public string Executable => Path.Combine(Directory, "linux-x64", "trellis");

    /// <summary>What publishing printed (sizes, times); empty when TRELLIS_PUBLISHED was given.</summary>
    public string Log { get; private set; } = "";

    public async Task InitializeAsync()
    {
        if (Environment.GetEnvironmentVariable(PublishedVariable) is { Length: > 0 } given)
        {
            Directory = given;
            return;
        }

        _ownDirectory = System.IO.Directory.CreateTempSubdirectory("trl-publish-").FullName;
        Directory = Path.Combine(_ownDirectory, "publish");
        var timer = Stopwatch.StartNew();
        var publish = await HostCommand.RunAsync(
            Path.Combine(RepositoryRoot.Path, "scripts", "publish.sh"),
            [Directory],
            new CommandOptions { Timeout = PublishTimeout, Environment = new Dictionary<string, string> { ["TRELLIS_RIDS"] = "linux-x64" } });
        Log = $"--- scripts/publish.sh ({timer.Elapsed.TotalSeconds:0} s) ---\n{publish.StandardOutput}{publish.StandardError}";
        publish.EnsureSuccess();
    }

    public Task DisposeAsync()
    {
        if (_ownDirectory is not null)
        {
            System.IO.Directory.Delete(_ownDirectory, recursive: true);
        }

        return Task.CompletedTask;
    }
}
