using System.Text.Encodings.Web;

namespace Trellis.Control.Sso;

/// <summary>The few pages a person sees at the end of a sign-in: plain HTML, no scripts, nothing fetched from elsewhere.</summary>
internal static class SsoPages
{
    public static string Registered(string node, string user) =>
        Page("Signed in", $"<p>The node <b>{Html(node)}</b> is registered to <b>{Html(user)}</b>.</p><p>You can close this page; trellis up on the node finishes by itself.</p>");

    public static string Renewed(string node, DateTimeOffset? expiry) =>
        Page("Signed in", $"<p>The key of the node <b>{Html(node)}</b> is renewed: it now expires {Html(expiry is { } at ? at.UtcDateTime.ToString("yyyy-MM-dd HH:mm 'UTC'", System.Globalization.CultureInfo.InvariantCulture) : "never")}.</p><p>You can close this page; the node stayed connected throughout.</p>");

    public static string Refused(string reason) =>
        Page("Sign-in refused", $"<p>{Html(reason)}.</p><p>Nothing about the node changed.</p>");

    public static string ConsoleRefused(string reason) =>
        Page("Sign-in refused", $"<p>{Html(reason)}.</p><p><a href=\"/admin/\">Back to the console</a></p>");

    private static string Page(string title, string body) =>
        $"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width">
        <title>Trellis: {Html(title)}</title></head>
        <body><h1>{Html(title)}</h1>{body}</body></html>
        """;

    private static string Html(string text) => HtmlEncoder.Default.Encode(text);
}
