namespace Trellis.Net.Netlink;

/// <summary>Linux errno values rtnetlink answers with, beyond those in <see cref="Errno"/>.</summary>
internal static class NetlinkErrno
{
    public const int ENOENT = 2;
    public const int ESRCH = 3;
    public const int EEXIST = 17;
    public const int EOPNOTSUPP = 95;
    public const int ENETDOWN = 100;
}
