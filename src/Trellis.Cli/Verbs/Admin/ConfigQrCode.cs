using System.Text;
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

    /// <summary>
    /// Two modules per character cell, one above the other, quiet zone included: the light modules
    /// are drawn (half or full blocks in bright white), the dark ones left as the black background.
    /// </summary>
    public static string ForTerminal(string text)
    {
        using var data = Encode(text);
        var rows = data.ModuleMatrix;
        var result = new StringBuilder();
        for (var y = 0; y < rows.Count; y += 2)
        {
            result.Append(Colours);
            for (var x = 0; x < rows[y].Length; x++)
            {
                var top = !rows[y][x];

                // An odd last row sits above the terminal's own background: quiet zone, light.
                var bottom = y + 1 >= rows.Count || !rows[y + 1][x];
                result.Append((top, bottom) switch
                {
                    (true, true) => '\u2588',
                    (true, false) => '\u2580',
                    (false, true) => '\u2584',
                    _ => ' ',
                });
            }

            result.Append(Reset).Append('\n');
        }

        return result.ToString();
    }
}
