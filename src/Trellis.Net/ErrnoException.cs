using System.Runtime.InteropServices;

namespace Trellis.Net;

/// <summary>A failed system call, with the operation, errno and its strerror text in the message.</summary>
public class ErrnoException : IOException
{
    public ErrnoException()
    {
    }

    public ErrnoException(string message)
        : base(message)
    {
    }

    public ErrnoException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public ErrnoException(string operation, int errno, string? hint = null)
        : base(Format(operation, errno, hint))
    {
        Errno = errno;
    }

    /// <summary>The Linux errno value (0 when not built from one).</summary>
    public int Errno { get; }

    /// <summary>Builds from <see cref="Marshal.GetLastPInvokeError"/>; call right after the failing call.</summary>
    internal static ErrnoException FromLastError(string operation, string? hint = null) =>
        new(operation, Marshal.GetLastPInvokeError(), hint);

    private static string Format(string operation, int errno, string? hint)
    {
        var text = $"{operation}: {Marshal.GetPInvokeErrorMessage(errno)} (errno {errno})";
        return hint is null ? text : $"{text}; {hint}";
    }
}

/// <summary>The Linux errno values the data path tells apart.</summary>
internal static class Errno
{
    public const int EPERM = 1;
    public const int EINTR = 4;
    public const int EIO = 5;
    public const int EBADF = 9;
    public const int EAGAIN = 11;
    public const int ENOMEM = 12;
    public const int EACCES = 13;
    public const int EBUSY = 16;
    public const int ENODEV = 19;
    public const int EINVAL = 22;
    public const int EPIPE = 32;
    public const int EMSGSIZE = 90;
    public const int EBADFD = 77;
    public const int EAFNOSUPPORT = 97;
    public const int EADDRNOTAVAIL = 99;
    public const int ENETUNREACH = 101;
    public const int ENOBUFS = 105;
    public const int ECONNREFUSED = 111;
    public const int EHOSTUNREACH = 113;
}
