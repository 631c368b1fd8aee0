using Trellis.Control.AccessControl;
using Trellis.Control.Policy;

namespace Trellis.Control.Server;

/// <summary>The one place that says which policy compiler `trellis server` uses.</summary>
public static class PolicyCompilerRegistration
{
    /// <summary>
    /// The compiler the host registers when its caller gives none. Until the policy language is
    /// wired in here, every policy is refused with a message saying why.
    /// </summary>
    public static IPolicyCompiler Default() => new UnavailablePolicyCompiler();
}
