namespace Trellis.Control.Policy;

internal enum PolicyValueKind
{
    Object,
    Array,
    String,
    Number,
    Boolean,
    Null,
}

/// <summary>One JSON value of the policy text with the line and column (1-based) where it starts, so every error can point at it.</summary>
internal sealed class PolicyValue
{
    private static readonly IReadOnlyList<PolicyMember> NoMembers = [];
    private static readonly IReadOnlyList<PolicyValue> NoItems = [];

    public PolicyValue(PolicyValueKind kind, int line, int column, string text = "", IReadOnlyList<PolicyMember>? members = null, IReadOnlyList<PolicyValue>? items = null)
    {
        Kind = kind;
        Line = line;
        Column = column;
        Text = text;
        Members = members ?? NoMembers;
        Items = items ?? NoItems;
    }

    public PolicyValueKind Kind { get; }

    public int Line { get; }

    public int Column { get; }

    /// <summary>A string's value, a number's or boolean's literal text.</summary>
    public string Text { get; }

    public IReadOnlyList<PolicyMember> Members { get; }

    public IReadOnlyList<PolicyValue> Items { get; }

    public PolicyString AsPolicyString() => new(Text, Line, Column);

    public PolicyException Error(string message) => new(message, Line, Column);
}

/// <summary>A member of a JSON object; the position is the member's name.</summary>
internal sealed record PolicyMember(string Name, int Line, int Column, PolicyValue Value)
{
    public PolicyString NameString => new(Name, Line, Column);

    public PolicyException Error(string message) => new(message, Line, Column);
}

/// <summary>A string of the policy with where it was written.</summary>
internal readonly record struct PolicyString(string Value, int Line, int Column)
{
    public PolicyException Error(string message) => new(message, Line, Column);

    public override string ToString() => Value;
}
