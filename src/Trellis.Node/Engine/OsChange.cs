namespace Trellis.Node.Engine;

/// <summary>One change to the OS (a route, a rule, an address, a sysctl) among several that must all be tried.</summary>
internal static class OsChange
{
    /// <summary>Runs one OS change; a failure is collected (and the change not recorded) so the rest still happens.</summary>
    public static bool Try(List<Exception> failures, Action change)
    {
        try
        {
            change();
            return true;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            failures.Add(e);
            return false;
        }
    }
}
