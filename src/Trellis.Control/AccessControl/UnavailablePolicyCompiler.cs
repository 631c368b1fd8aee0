using Trellis.Control.Policy;

namespace Trellis.Control.AccessControl;

/// <summary>What a server built without the policy language answers: every policy is refused, saying so.</summary>
public sealed class UnavailablePolicyCompiler : IPolicyCompiler
{
    public IAccessPolicy Compile(string text) =>
        throw new PolicyException("this server has no access policy compiler, so it cannot enforce a policy; upgrade trellis to a version that supports access policies");
}
