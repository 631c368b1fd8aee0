namespace Trellis.Node.LocalApi;

/// <summary>A local API operation failed; <see cref="Code"/> is one of <see cref="LocalApiErrors"/>.</summary>
public sealed class LocalApiException : Exception
{
    public LocalApiException(string code, string message, Exception? innerException = null)
        : base(message, innerException) => Code = code;

    public LocalApiException()
    {
        Code = LocalApiErrors.Failed;
    }

    public LocalApiException(string message)
        : base(message) => Code = LocalApiErrors.Failed;

    public LocalApiException(string message, Exception innerException)
        : base(message, innerException) => Code = LocalApiErrors.Failed;

    public string Code { get; }
}
