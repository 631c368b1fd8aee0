using System.Globalization;
using System.Net;
using Microsoft.EntityFrameworkCore.Storage.ValueConversion;
using Trellis.Core.Keys;

namespace Trellis.Control.Store;

/// <summary>Keys as 64 lowercase hex digits: readable in the database and the same on every provider.</summary>
internal sealed class KeyHexConverter() : ValueConverter<Key, string>(k => k.ToHex(), s => Key.FromHex(s));

/// <summary>Addresses as their canonical text (not PostgreSQL inet) so both providers share one schema.</summary>
internal sealed class IPAddressTextConverter() : ValueConverter<IPAddress, string>(a => a.ToString(), s => IPAddress.Parse(s));

/// <summary>
/// SQLite has no timestamp type and EF cannot compare DateTimeOffset there; fixed-width UTC text
/// sorts and compares in time order, and stays readable.
/// </summary>
internal sealed class UtcTextTimestampConverter() : ValueConverter<DateTimeOffset, string>(v => Format(v), s => Parse(s))
{
    private const string Pattern = "yyyy'-'MM'-'dd'T'HH':'mm':'ss'.'fffffff'Z'";

    private static string Format(DateTimeOffset value) => value.UtcDateTime.ToString(Pattern, CultureInfo.InvariantCulture);

    private static DateTimeOffset Parse(string text) =>
        DateTimeOffset.ParseExact(text, Pattern, CultureInfo.InvariantCulture, DateTimeStyles.AssumeUniversal | DateTimeStyles.AdjustToUniversal);
}
