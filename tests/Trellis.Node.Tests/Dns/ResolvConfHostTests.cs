using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Trellis.Core.Control;
using Trellis.Node.Dns;

namespace Trellis.Node.Tests.Dns;

public sealed class ResolvConfHostTests : IDisposable
{
    private static readonly byte[] Original = Encoding.UTF8.GetBytes("# from DHCP\nnameserver 192.0.2.1\nnameserver 2001:db8::1\nsearch home.example\noptions edns0 trust-ad\n");

    private static readonly DnsConfig Config = new() { BaseDomain = "mesh.test", SearchDomains = ["corp.example"] };

    private readonly string _dir = Directory.CreateTempSubdirectory("trellis-resolvconf-").FullName;

    public ResolvConfHostTests() => File.WriteAllBytes(ResolvConfPath, Original);

    private string ResolvConfPath => Path.Combine(_dir, "resolv.conf");

    private string BackupPath => Path.Combine(_dir, "state", ResolvConfHost.BackupName);

    public void Dispose() => Directory.Delete(_dir, recursive: true);

    private ResolvConfHost Host()
    {
        Directory.CreateDirectory(Path.GetDirectoryName(BackupPath)!);
        return new ResolvConfHost(ResolvConfPath, BackupPath, NullLogger.Instance);
    }

    [Fact]
    public void Apply_names_the_mesh_resolver_and_restore_puts_the_original_back_byte_for_byte()
    {
        var host = Host();
        host.Apply(Config);
        var lines = File.ReadAllLines(ResolvConfPath);
        Assert.Equal(["nameserver 100.100.100.100", "nameserver fd7a:7472:6c6c:53::53"], lines.Where(l => l.StartsWith("nameserver", StringComparison.Ordinal)));
        Assert.Contains("search mesh.test corp.example", lines);
        Assert.Contains("options edns0 trust-ad", lines);
        Assert.Equal(["192.0.2.1:53", "[2001:db8::1]:53"], host.OriginalNameservers().Select(e => e.ToString()));

        host.Apply(Config); // again: the backup stays the original
        host.Restore();
        Assert.Equal(Original, File.ReadAllBytes(ResolvConfPath));
        Assert.False(File.Exists(BackupPath));
    }

    [Fact]
    public void The_file_keeps_its_inode_so_a_bind_mount_stays_in_place()
    {
        var host = Host();
        var inode = Inode(ResolvConfPath);
        host.Apply(Config);
        Assert.Equal(inode, Inode(ResolvConfPath));
        host.Restore();
        Assert.Equal(inode, Inode(ResolvConfPath));
    }

    [Fact]
    public void A_daemon_that_died_is_cleaned_up_by_the_next_one()
    {
        Host().Apply(Config);
        Assert.NotEqual(Original, File.ReadAllBytes(ResolvConfPath));

        Host().Restore(); // what a new daemon does first
        Assert.Equal(Original, File.ReadAllBytes(ResolvConfPath));
    }

    [Fact]
    public void A_file_changed_by_someone_else_after_apply_is_not_overwritten_on_restore()
    {
        var host = Host();
        host.Apply(Config);
        var theirs = Encoding.UTF8.GetBytes("nameserver 198.51.100.53\n");
        File.WriteAllBytes(ResolvConfPath, theirs);
        host.Restore();
        Assert.Equal(theirs, File.ReadAllBytes(ResolvConfPath));
    }

    [Fact]
    public void A_link_means_another_program_manages_the_file_and_it_is_left_alone()
    {
        var target = Path.Combine(_dir, "managed.conf");
        File.WriteAllBytes(target, Original);
        File.Delete(ResolvConfPath);
        File.CreateSymbolicLink(ResolvConfPath, target);
        var host = Host();
        host.Apply(Config);
        host.Restore();
        Assert.Equal(Original, File.ReadAllBytes(target));
        Assert.False(File.Exists(BackupPath));
    }

    private static string Inode(string path)
    {
        using var stat = System.Diagnostics.Process.Start(new System.Diagnostics.ProcessStartInfo("stat", ["-c", "%i", path]) { RedirectStandardOutput = true })!;
        var inode = stat.StandardOutput.ReadToEnd().Trim();
        stat.WaitForExit();
        return inode;
    }
}
