namespace Trellis.Net.Netlink;

/// <summary>The kernel's reserved routing table ids (RT_TABLE_*); other tables are numbered 1-252 and 256 up.</summary>
public static class RouteTable
{
    /// <summary>In a listing: every table.</summary>
    public const uint Unspecified = 0;

    public const uint Default = 253;

    /// <summary>The table <c>ip route</c> uses when none is named.</summary>
    public const uint Main = 254;

    /// <summary>The kernel's table of local and broadcast addresses.</summary>
    public const uint Local = 255;
}
