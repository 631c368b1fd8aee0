using System.Text.Json;

namespace Trellis.Net.Tests.Netlink;

/// <summary>Reads the fields of <c>ip -j</c> output the tests compare against.</summary>
internal static class IpOutput
{
    public static string? String(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.String ? value.GetString() : null;

    public static long? Number(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.Number ? value.GetInt64() : null;

    public static bool Flag(this JsonElement element, string name) =>
        element.TryGetProperty(name, out var value) && value.ValueKind == JsonValueKind.True;

    /// <summary>The "flags" array of a link, such as UP or NO-CARRIER.</summary>
    public static IReadOnlyList<string> Flags(this JsonElement element) =>
        element.TryGetProperty("flags", out var flags) ? [.. flags.EnumerateArray().Select(f => f.GetString()!)] : [];

    /// <summary>"addr_info" of the single interface <c>ip -j addr show dev NAME</c> printed, as "address/length".</summary>
    public static IReadOnlyList<string> Addresses(this JsonElement output) =>
        [.. output.EnumerateArray().SelectMany(link => link.GetProperty("addr_info").EnumerateArray())
            .Select(a => $"{a.String("local")}/{a.Number("prefixlen")}")];

    /// <summary>The entry of <c>ip -j addr show</c> for one address.</summary>
    public static JsonElement AddressEntry(this JsonElement output, string address) =>
        output.EnumerateArray().SelectMany(link => link.GetProperty("addr_info").EnumerateArray()).Single(a => a.String("local") == address);

    /// <summary>The routes of <c>ip -j route show</c> whose "dst" is <paramref name="destination"/>.</summary>
    public static IReadOnlyList<JsonElement> RoutesTo(this JsonElement output, string destination) =>
        [.. output.EnumerateArray().Where(r => r.String("dst") == destination)];
}
