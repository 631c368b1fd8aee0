using System.Diagnostics.CodeAnalysis;

namespace Trellis.Control.Store;

/// <summary>Why a store operation did not happen. Expected failures are values, not exceptions.</summary>
public enum StoreError
{
    None,

    /// <summary>The input broke a rule (bad name, bad prefix, ...); the message says which.</summary>
    Invalid,

    NotFound,

    /// <summary>Something with that name or identity already exists, or the state does not allow it.</summary>
    Conflict,

    /// <summary>Still referenced (a user who owns nodes).</summary>
    InUse,

    /// <summary>The access policy does not allow it (a tag its tagOwners do not grant).</summary>
    Forbidden,
}

/// <summary>A failure on its way to becoming a <see cref="StoreResult"/> or <see cref="StoreResult{T}"/>.</summary>
public sealed record StoreFailure(StoreError Error, string Message)
{
    public static StoreFailure Invalid(string message) => new(StoreError.Invalid, message);

    public static StoreFailure NotFound(string message) => new(StoreError.NotFound, message);

    public static StoreFailure Conflict(string message) => new(StoreError.Conflict, message);

    public static StoreFailure InUse(string message) => new(StoreError.InUse, message);

    public static StoreFailure Forbidden(string message) => new(StoreError.Forbidden, message);
}

/// <summary>The outcome of an operation that returns nothing but may fail.</summary>
public sealed class StoreResult
{
    private StoreResult(StoreError error, string? message)
    {
        Error = error;
        Message = message;
    }

    public static StoreResult Ok { get; } = new(StoreError.None, null);

    public StoreError Error { get; }

    public string? Message { get; }

    [MemberNotNullWhen(false, nameof(Message))]
    public bool Succeeded => Error == StoreError.None;

    public static implicit operator StoreResult(StoreFailure failure) =>
        new(failure.Error, failure.Message);

    public override string ToString() => Succeeded ? "ok" : $"{Error}: {Message}";
}

/// <summary>The outcome of an operation that returns a value or fails with a reason.</summary>
public sealed class StoreResult<T>
{
    private StoreResult(T? value, StoreError error, string? message)
    {
        Value = value;
        Error = error;
        Message = message;
    }

    public T? Value { get; }

    public StoreError Error { get; }

    public string? Message { get; }

    [MemberNotNullWhen(true, nameof(Value))]
    [MemberNotNullWhen(false, nameof(Message))]
    public bool Succeeded => Error == StoreError.None;

    public static StoreResult<T> Ok(T value) => new(value, StoreError.None, null);

    public static implicit operator StoreResult<T>(StoreFailure failure) =>
        new(default, failure.Error, failure.Message);

    public override string ToString() => Succeeded ? $"ok: {Value}" : $"{Error}: {Message}";
}
