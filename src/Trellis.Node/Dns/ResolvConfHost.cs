using System.Net;
using System.Text;
using Microsoft.Extensions.Logging;
using Trellis.Core.Control;
using Trellis.Node.State;

namespace Trellis.Node.Dns;

/// <summary>
/// Host DNS without systemd-resolved: /etc/resolv.conf rewritten to name the mesh resolver, the
/// original kept byte for byte in the state directory and written back on restore (also by the next
/// daemon, if this one died first). The file is rewritten in place, never replaced: it may be a bind
/// mount (`ip netns exec` mounts /etc/netns/NAME/resolv.conf over it) and its inode and mode stay.
/// A symbolic link means another program manages the file; it is then left alone, with a note.
/// </summary>
internal sealed partial class ResolvConfHost(string path, string backupPath, ILogger logger) : IHostDns
{
    public const string BackupName = "resolv.conf.pre-trellis";

    private bool _noted;

    public IReadOnlyList<IPEndPoint> OriginalNameservers()
    {
        var original = File.Exists(backupPath) ? backupPath : path;
        try
        {
            return ResolvConf.Nameservers(File.ReadAllText(original));
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            LogReadFailed(logger, original, e.Message);
            return [];
        }
    }

    public void Apply(DnsConfig config)
    {
        if (ManagedElsewhere())
        {
            return;
        }

        var current = File.ReadAllBytes(path);
        if (!ResolvConf.IsOurs(current))
        {
            // Not ours (first time, or changed by someone since): that is the original now.
            AtomicFile.Write(backupPath, current);
        }

        var wanted = ResolvConf.Render(config, Encoding.UTF8.GetString(File.ReadAllBytes(backupPath)));
        if (!current.AsSpan().SequenceEqual(wanted))
        {
            WriteInPlace(wanted);
            LogPointed(logger, path);
        }
    }

    public void Restore()
    {
        if (!File.Exists(backupPath))
        {
            return;
        }

        var original = File.ReadAllBytes(backupPath);
        if (!File.Exists(path) || ResolvConf.IsOurs(File.ReadAllBytes(path)))
        {
            WriteInPlace(original);
            LogRestored(logger, path);
        }

        File.Delete(backupPath);
    }

    private bool ManagedElsewhere()
    {
        var info = new FileInfo(path);
        if (info.LinkTarget is not { } target)
        {
            return false;
        }

        if (!_noted)
        {
            _noted = true;
            LogManaged(logger, path, target);
        }

        return true;
    }

    private void WriteInPlace(byte[] content)
    {
        using var file = new FileStream(path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite);
        file.SetLength(0);
        file.Write(content);
        file.Flush(flushToDisk: true);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Path} now names the mesh resolver; the original is kept beside the node's state")]
    private static partial void LogPointed(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "{Path} restored to what it was before trellis")]
    private static partial void LogRestored(ILogger logger, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Path} is a link to {Target}, so another program manages it; trellis leaves it alone. Point that program at the mesh resolver (nameserver 100.100.100.100, search domain of the mesh) or use systemd-resolved")]
    private static partial void LogManaged(ILogger logger, string path, string target);

    [LoggerMessage(Level = LogLevel.Warning, Message = "could not read {Path} for the host's nameservers: {Reason}")]
    private static partial void LogReadFailed(ILogger logger, string path, string reason);
}
