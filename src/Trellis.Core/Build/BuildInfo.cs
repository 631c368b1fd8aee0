using System.Reflection;
using System.Runtime.InteropServices;

namespace Trellis.Core.Build;

/// <summary>
/// What this build of Trellis is: the release, the commit it was built from and the runtime it runs on.
/// Every Trellis assembly is built in one go, so Core's own attributes speak for the whole program.
/// </summary>
public static class BuildInfo
{
    /// <summary>Said for the commit when the sources were built outside a git checkout.</summary>
    public const string Unknown = "unknown";

    /// <summary>The release, such as "0.1.0".</summary>
    public static string Version { get; }

    /// <summary>The full commit id the build came from, or <see cref="Unknown"/>.</summary>
    public static string Commit { get; }

    /// <summary>The .NET runtime and platform, such as ".NET 10.0.0 linux-x64".</summary>
    public static string Runtime { get; } = $"{RuntimeInformation.FrameworkDescription} {RuntimeInformation.RuntimeIdentifier}";

    /// <summary>
    /// What a node tells its server and peers: the release and a short commit ("0.1.0+0567290f61ba"),
    /// within <see cref="NodeVersion.MaxLength"/>.
    /// </summary>
    public static string Short { get; }

    static BuildInfo()
    {
        // The SDK writes "VERSION+COMMIT" when it finds the git repository (it reads .git itself, no git
        // program needed) and "VERSION" alone when it does not.
        var informational = typeof(BuildInfo).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "";
        var plus = informational.IndexOf('+', StringComparison.Ordinal);
        Version = plus < 0 ? informational : informational[..plus];
        if (Version.Length == 0)
        {
            Version = Unknown;
        }

        Commit = plus < 0 || plus == informational.Length - 1 ? Unknown : informational[(plus + 1)..];
        Short = NodeVersion.Bounded(Commit == Unknown ? Version : $"{Version}+{Commit[..Math.Min(12, Commit.Length)]}");
    }
}
