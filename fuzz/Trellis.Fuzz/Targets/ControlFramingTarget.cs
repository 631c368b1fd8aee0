using Trellis.Core.Control;

namespace Trellis.Fuzz.Targets;

/// <summary>
/// Decrypted control-channel bytes into a <see cref="MessageFramer"/>, cut into chunks as Noise
/// messages would cut them (the first byte picks the chunk size). A malformed stream is an
/// <see cref="InvalidDataException"/>, a length prefix over the limit a
/// <see cref="ControlMessageTooLargeException"/>; either closes the channel.
/// </summary>
public static class ControlFramingTarget
{
    // Small enough that a 32 MiB length prefix from the fuzzer is refused rather than waited for.
    private const int MaxMessage = 64 * 1024;

    public static bool Run(ReadOnlySpan<byte> input)
    {
        if (input.IsEmpty)
        {
            return false;
        }

        var chunk = 1 + input[0];
        var framer = new MessageFramer(MaxMessage);
        var complete = 0;
        try
        {
            for (var at = 1; at < input.Length; at += chunk)
            {
                complete += framer.AddRaw(input[at..Math.Min(input.Length, at + chunk)]).Count;
            }

            return complete > 0;
        }
        catch (InvalidDataException)
        {
            return false;
        }
        catch (ControlMessageTooLargeException)
        {
            return false;
        }
    }
}
