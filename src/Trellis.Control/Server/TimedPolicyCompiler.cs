using Trellis.Control.Policy;

namespace Trellis.Control.Server;

/// <summary>Times each compile of the policy it wraps, for <see cref="ServerMetrics"/>; refused policies count too.</summary>
internal sealed class TimedPolicyCompiler(IPolicyCompiler inner, ServerMetrics metrics, TimeProvider time) : IPolicyCompiler
{
    public IAccessPolicy Compile(string text)
    {
        var started = time.GetTimestamp();
        try
        {
            return inner.Compile(text);
        }
        finally
        {
            metrics.PolicyCompiled(time.GetElapsedTime(started));
        }
    }
}
