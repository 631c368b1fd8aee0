namespace Trellis.Control.Policy;

/// <summary>Turns policy text (HuJSON, Tailscale's format) into a policy in force, or refuses it.</summary>
public interface IPolicyCompiler
{
    /// <summary>Parses, validates, compiles and runs the policy's own tests; throws <see cref="PolicyException"/> on any failure.</summary>
    IAccessPolicy Compile(string text);
}
