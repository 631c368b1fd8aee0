namespace Trellis.Lab;

/// <summary>A lab server's TLS certificate and key (PEM files), e.g. issued by a private CA made in the test.</summary>
public sealed record LabTls(string CertificatePath, string KeyPath);
