using System.Runtime.InteropServices;
using System.Text;

namespace Trellis.Net;

/// <summary>Network interface names: the kernel's validity rules, ifreq encoding, and name-keyed ioctls.</summary>
public static unsafe class InterfaceName
{
    /// <summary>IFNAMSIZ minus the terminating NUL.</summary>
    public const int MaxLength = IfReq.NameSize - 1;

    /// <summary>Throws <see cref="ArgumentException"/> unless the kernel would accept <paramref name="name"/> (dev_valid_name).</summary>
    public static void Validate(string name, string paramName = "name")
    {
        ArgumentNullException.ThrowIfNull(name, paramName);
        if (name.Length == 0)
        {
            throw new ArgumentException("an interface name cannot be empty", paramName);
        }

        var bytes = Encoding.UTF8.GetByteCount(name);
        if (bytes > MaxLength)
        {
            throw new ArgumentException($"interface name \"{name}\" is {bytes} bytes; Linux allows at most {MaxLength}", paramName);
        }

        if (name is "." or "..")
        {
            throw new ArgumentException($"\"{name}\" is not a valid interface name", paramName);
        }

        foreach (var c in name)
        {
            if (c is '/' or ':' or '\0' || char.IsWhiteSpace(c))
            {
                throw new ArgumentException($"interface name \"{name}\" contains '{(c == '\0' ? "\\0" : c)}'; '/', ':', NUL and whitespace are not allowed", paramName);
            }
        }
    }

    /// <summary>Whether an interface of this name exists now (if_nametoindex).</summary>
    public static bool Exists(string name) => Index(name) != 0;

    /// <summary>The interface index, or 0 when there is no such interface.</summary>
    public static int Index(string name)
    {
        Validate(name);
        Span<byte> buffer = stackalloc byte[IfReq.NameSize];
        buffer.Clear();
        Encoding.UTF8.GetBytes(name, buffer);
        fixed (byte* p = buffer)
        {
            return (int)Libc.if_nametoindex(p);
        }
    }

    /// <summary>Reads the MTU of any interface (SIOCGIFMTU).</summary>
    public static int GetMtu(string name)
    {
        var request = Request(name);
        IoctlOnDatagramSocket(Libc.SIOCGIFMTU, ref request, $"SIOCGIFMTU {name}");
        return request.Mtu;
    }

    internal static void SetMtu(string name, int mtu)
    {
        var request = Request(name);
        request.Mtu = mtu;
        IoctlOnDatagramSocket(Libc.SIOCSIFMTU, ref request, $"SIOCSIFMTU {name} {mtu}");
    }

    internal static void Write(string name, ref IfReq request)
    {
        fixed (byte* p = request.Name)
        {
            var span = new Span<byte>(p, IfReq.NameSize);
            span.Clear();
            Encoding.UTF8.GetBytes(name, span);
        }
    }

    internal static string Read(ref IfReq request)
    {
        fixed (byte* p = request.Name)
        {
            var span = new ReadOnlySpan<byte>(p, IfReq.NameSize);
            var end = span.IndexOf((byte)0);
            return Encoding.UTF8.GetString(end < 0 ? span : span[..end]);
        }
    }

    private static IfReq Request(string name)
    {
        Validate(name);
        IfReq request = default;
        Write(name, ref request);
        return request;
    }

    /// <summary>Interface ioctls go through any socket; a throwaway AF_INET datagram socket is the usual one.</summary>
    private static void IoctlOnDatagramSocket(nuint command, ref IfReq request, string what)
    {
        var fd = Libc.socket(Libc.AF_INET, Libc.SOCK_DGRAM | Libc.SOCK_CLOEXEC, 0);
        if (fd < 0)
        {
            throw ErrnoException.FromLastError($"{what}: socket(AF_INET, SOCK_DGRAM)");
        }

        try
        {
            fixed (IfReq* p = &request)
            {
                if (Libc.ioctl(fd, command, p) != 0)
                {
                    var errno = Marshal.GetLastPInvokeError();
                    var hint = errno switch
                    {
                        Errno.EPERM => "changing an interface needs CAP_NET_ADMIN",
                        Errno.ENODEV => "no such interface",
                        _ => null,
                    };
                    throw new ErrnoException(what, errno, hint);
                }
            }
        }
        finally
        {
            _ = Libc.close(fd);
        }
    }
}
