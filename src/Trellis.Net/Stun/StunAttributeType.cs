namespace Trellis.Net.Stun;

/// <summary>
/// Attribute types of RFC 8489 (and RFC 5389 before it). Types below 0x8000 are
/// comprehension-required: a request carrying one the server does not understand gets error 420.
/// </summary>
public enum StunAttributeType : ushort
{
    MappedAddress = 0x0001,
    Username = 0x0006,
    MessageIntegrity = 0x0008,
    ErrorCode = 0x0009,
    UnknownAttributes = 0x000A,
    Realm = 0x0014,
    Nonce = 0x0015,
    MessageIntegritySha256 = 0x001C,
    PasswordAlgorithm = 0x001D,
    UserHash = 0x001E,
    XorMappedAddress = 0x0020,
    PasswordAlgorithms = 0x8002,
    AlternateDomain = 0x8003,
    Software = 0x8022,
    AlternateServer = 0x8023,
    Fingerprint = 0x8028,
}
