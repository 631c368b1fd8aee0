namespace Trellis.Control.Policy;

/// <summary>What a valid policy may still need to tell the person who wrote it.</summary>
public static class PolicyWarnings
{
    public const string DeniesEverything =
        "this policy denies everything: its \"acls\" list is empty (or missing), so no node may reach any other";
}
