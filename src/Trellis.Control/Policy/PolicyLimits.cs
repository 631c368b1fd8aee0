namespace Trellis.Control.Policy;

/// <summary>Bounds on policy text, checked before it is parsed, by the server and by <c>trellis policy check</c>.</summary>
public static class PolicyLimits
{
    /// <summary>Policies are a few kilobytes; a megabyte is far beyond any real one and bounds the parse.</summary>
    public const int MaxPolicyBytes = 1024 * 1024;

    public static string TooLarge(long size) =>
        $"the policy is {size} bytes, over the limit of {MaxPolicyBytes} bytes (1 MiB); name nodes by groups, tags and hosts instead of listing them one by one";
}
