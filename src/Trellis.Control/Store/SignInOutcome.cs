namespace Trellis.Control.Store;

/// <summary>What a node's sign-in did: registered a waiting node, or renewed an active node's key.</summary>
public sealed record SignInOutcome(Node Node, bool Renewed);
