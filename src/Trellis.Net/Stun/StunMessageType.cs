namespace Trellis.Net.Stun;

/// <summary>
/// The STUN message types Trellis uses: the Binding method in each class. Other values parse too
/// (the type field is kept as it came), so an unexpected method can be recognised and ignored.
/// </summary>
public enum StunMessageType : ushort
{
    BindingRequest = 0x0001,
    BindingIndication = 0x0011,
    BindingSuccess = 0x0101,
    BindingError = 0x0111,
}
