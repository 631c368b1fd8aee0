namespace Trellis.Control.Replicas;

/// <summary>What a row of the change log names; the numbers are the triggers' arguments in the MeshChangeFeed migration.</summary>
public enum MeshChangeKind : short
{
    /// <summary>A node was added, changed or deleted: read it back and publish it.</summary>
    Node = 1,

    /// <summary>A user changed (name, identity groups): publish each of their nodes.</summary>
    User = 2,

    /// <summary>The stored access policy was set or removed: put the stored one in force.</summary>
    Policy = 3,
}

/// <summary>
/// One row of the change log. It says only what changed, never to what: applying it reads the
/// store as it is now, so applying a row twice, or late, leaves the same mesh.
/// </summary>
/// <param name="Origin">The replica whose write it was (<see cref="ReplicaIdentity"/>); empty for a write from outside a server.</param>
public readonly record struct MeshChange(long Seq, MeshChangeKind Kind, long SubjectId, string Origin);
