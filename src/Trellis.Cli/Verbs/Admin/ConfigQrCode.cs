using QRCoder;

namespace Trellis.Cli.Verbs.Admin;

/// <summary>
/// A wg-quick configuration as a QR code, for the phone apps' "scan from QR code". Error correction
/// L: the code stays small enough for a terminal, and a screen is not a worn label.
/// </summary>
internal static class ConfigQrCode
{
    // White on black whatever the terminal's colours: scanners expect dark modules on a light field.
    private const string Colours = "\u001b[40;97m";
    private const string Reset = "\u001b[0m";

    public static QRCodeData Encode(string text)
    {
        using var generator = new QRCodeGenerator();
        return generator.CreateQrCode(text, QRCodeGenerator.ECCLevel.L);
    }

    /// <summary>Two modules per character cell (half blocks), quiet zone included.</summary>
    public static string ForTerminal(string text)
    {
        using var data = Encode(text);
        using var ascii = new AsciiQRCode(data);

        // Inverted: the light modules are the drawn blocks, in the bright foreground over the black background.
        var lines = ascii.GetGraphicSmall(drawQuietZones: true, invert: true, endOfLine: "\n").Split('\n', StringSplitOptions.RemoveEmptyEntries);
        return string.Concat(lines.Select(l => Colours + l + Reset + "\n"));
    }

    /// <summary>A PNG image, 8 pixels a module.</summary>
    public static byte[] Png(string text)
    {
        using var data = Encode(text);
        using var png = new PngByteQRCode(data);
        return png.GetGraphic(8);
    }
}
