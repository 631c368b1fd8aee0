using System.ComponentModel;
using System.Diagnostics;
using System.Text;

namespace Trellis.Node.Engine;

/// <summary>
/// Masquerading through nftables, in a table of our own so nothing else's rules are touched and
/// removing it removes exactly what we added. This shells out to nft(8): nftables' netlink protocol
/// (expressions, sets, batches, generation ids) is large and its stable, documented interface is the
/// nft tool, which also applies a whole script as one atomic transaction. Everything else the engine
/// configures (links, addresses, routes) goes through rtnetlink directly.
/// </summary>
internal static class NftMasquerade
{
    private static readonly TimeSpan Timeout = TimeSpan.FromSeconds(10);

    /// <summary>"trellis_" and the interface name with characters nft identifiers refuse replaced by '_'.</summary>
    public static string TableName(string interfaceName)
    {
        var name = new StringBuilder("trellis_", 8 + interfaceName.Length);
        foreach (var c in interfaceName)
        {
            name.Append(char.IsAsciiLetterOrDigit(c) || c == '_' ? c : '_');
        }

        return name.ToString();
    }

    /// <summary>
    /// A script that replaces the table atomically: "add" makes the "delete" safe when the table does
    /// not exist yet, and all three statements commit together or not at all.
    /// </summary>
    public static string SetScript(string table, IReadOnlyList<MasqueradeRule> rules)
    {
        var script = new StringBuilder();
        script.Append("add table inet ").Append(table).Append('\n');
        script.Append("delete table inet ").Append(table).Append('\n');
        script.Append("table inet ").Append(table).Append(" {\n");
        script.Append("\tchain postrouting {\n");
        script.Append("\t\ttype nat hook postrouting priority srcnat; policy accept;\n");
        foreach (var rule in rules)
        {
            var family = Prefixes.IsIPv6(rule.Source) ? "ip6" : "ip";
            script.Append("\t\t").Append(family).Append(" saddr ").Append(rule.Source).Append(' ').Append(family);

            // An exit node's default route: everywhere but back into the overlay, whose own packets
            // (this node's, leaving through the TUN) must keep their addresses.
            if (rule.Destination.PrefixLength == 0)
            {
                script.Append(" daddr != ").Append(rule.Source);
            }
            else
            {
                script.Append(" daddr ").Append(rule.Destination);
            }

            script.Append(" masquerade\n");
        }

        script.Append("\t}\n}\n");
        return script.ToString();
    }

    /// <summary>
    /// wg-quick's connmark pair: a marked packet going out saves its mark in its connection, and the
    /// connection's packets coming in get it back before routing, where reverse-path filtering looks.
    /// Only connections carrying our mark are touched, so marks others set stay theirs.
    /// </summary>
    public static string MarkRestoreScript(string table, uint mark)
    {
        var hex = $"0x{mark:x}";
        return $"add table inet {table}\ndelete table inet {table}\ntable inet {table} {{\n"
            + $"\tchain premangle {{\n\t\ttype filter hook prerouting priority mangle; policy accept;\n\t\tct mark {hex} meta mark set ct mark\n\t}}\n"
            + $"\tchain postmangle {{\n\t\ttype filter hook postrouting priority mangle; policy accept;\n\t\tmeta mark {hex} ct mark set meta mark\n\t}}\n}}\n";
    }

    public static string RemoveScript(string table) => $"add table inet {table}\ndelete table inet {table}\n";

    /// <summary>Runs <c>nft -f -</c> with <paramref name="script"/> on standard input.</summary>
    public static void Run(string script)
    {
        var start = new ProcessStartInfo("nft")
        {
            RedirectStandardInput = true,
            RedirectStandardError = true,
            RedirectStandardOutput = true,
            UseShellExecute = false,
        };
        start.ArgumentList.Add("-f");
        start.ArgumentList.Add("-");
        Process process;
        try
        {
            process = Process.Start(start) ?? throw new IOException("could not start nft");
        }
        catch (Win32Exception e)
        {
            throw new IOException($"cannot run nft ({e.Message}): masquerading needs the nftables package", e);
        }

        using (process)
        {
            var stderr = process.StandardError.ReadToEndAsync();
            var stdout = process.StandardOutput.ReadToEndAsync();
            process.StandardInput.Write(script);
            process.StandardInput.Close();

            // Waits synchronously so the engine's whole apply stays on the caller's thread (see
            // LinuxNetworkConfig: the namespace a change lands in is the calling thread's).
            if (!process.WaitForExit(Timeout))
            {
                process.Kill();
                throw new IOException($"nft did not finish within {Timeout.TotalSeconds} s");
            }

            if (process.ExitCode != 0)
            {
                throw new IOException($"nft failed (exit {process.ExitCode}): {stderr.Result.Trim()}");
            }

            _ = stdout.Result;
        }
    }
}
