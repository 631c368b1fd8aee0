using System.Text.Json;
using Trellis.Core.Control;

namespace Trellis.Fuzz.Targets;

/// <summary>
/// One control message's JSON as the framer hands it over (<see cref="MessageFramer.Decode"/>: a bad
/// one is an <see cref="InvalidDataException"/>), and the same bytes as a relay map (netcheck reads
/// one from the server: a bad one is a <see cref="JsonException"/>).
/// </summary>
public static class ControlJsonTarget
{
    public static bool Run(ReadOnlySpan<byte> input)
    {
        var accepted = false;
        try
        {
            _ = MessageFramer.Decode(input);
            accepted = true;
        }
        catch (InvalidDataException)
        {
        }

        try
        {
            accepted |= JsonSerializer.Deserialize(input, ControlJsonContext.Default.RelayMap) is not null;
        }
        catch (JsonException)
        {
        }

        return accepted;
    }
}
