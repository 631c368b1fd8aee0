namespace Trellis.Lab;

/// <summary>
/// How to run the <c>trellis</c> CLI: <c>$TRELLIS_BIN</c> (an executable or a .dll) when set, else the
/// <c>trellis</c> apphost or <c>trellis.dll</c> next to the running assembly (the lab tests reference
/// src/Trellis.Cli so the build copies them there).
/// </summary>
public sealed record TrellisExecutable(string FileName, IReadOnlyList<string> LeadingArguments)
{
    public const string EnvironmentVariable = "TRELLIS_BIN";

    public static TrellisExecutable Locate(string? baseDirectory = null)
    {
        var configured = Environment.GetEnvironmentVariable(EnvironmentVariable);
        if (!string.IsNullOrEmpty(configured))
        {
            return File.Exists(configured)
                ? ForFile(Path.GetFullPath(configured))
                : throw new FileNotFoundException($"${EnvironmentVariable} points to '{configured}', which does not exist", configured);
        }

        baseDirectory ??= AppContext.BaseDirectory;
        var apphost = Path.Combine(baseDirectory, "trellis");
        if (File.Exists(apphost))
        {
            return ForFile(apphost);
        }

        var dll = Path.Combine(baseDirectory, "trellis.dll");
        if (File.Exists(dll))
        {
            return ForFile(dll);
        }

        throw new FileNotFoundException(
            $"the trellis CLI was not found: ${EnvironmentVariable} is unset and neither '{apphost}' nor '{dll}' exists. " +
            "Build src/Trellis.Cli (tests/Trellis.Lab.Tests references it so its output lands next to the tests) " +
            $"or set {EnvironmentVariable}.");
    }

    private static TrellisExecutable ForFile(string path) =>
        path.EndsWith(".dll", StringComparison.OrdinalIgnoreCase)
            ? new TrellisExecutable(DotnetHost(), [path])
            : new TrellisExecutable(path, []);

    private static string DotnetHost()
    {
        var host = Environment.GetEnvironmentVariable("DOTNET_HOST_PATH");
        return !string.IsNullOrEmpty(host) && File.Exists(host) ? host : "dotnet";
    }
}
