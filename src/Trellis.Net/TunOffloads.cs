namespace Trellis.Net;

/// <summary>
/// The offloads a <see cref="LinuxTun"/> asked the kernel for and got (TUN_F_* values): with them the
/// kernel hands over unfinished checksums and TCP/UDP super-packets of up to 64 KiB, which LinuxTun
/// finishes and splits itself.
/// </summary>
[Flags]
public enum TunOffloads
{
    None = 0,
    Checksum = 0x01,
    Tso4 = 0x02,
    Tso6 = 0x04,
    TsoEcn = 0x08,
    Uso4 = 0x20,
    Uso6 = 0x40,
}
