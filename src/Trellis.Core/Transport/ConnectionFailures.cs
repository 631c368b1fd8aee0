using System.Security.Authentication;

namespace Trellis.Core.Transport;

/// <summary>
/// Why an HTTPS or WebSocket call to a server failed, in words an operator can act on: the name does
/// not resolve, each address and why it refused, or a TLS certificate this machine does not trust
/// (and how to trust it), instead of "PartialChain" or "see inner exception".
/// </summary>
public static class ConnectionFailures
{
    public const string TrustHint =
        "give the CA that issued it with --ca-cert FILE (on a node: trellis daemon --ca-cert) or $TRELLIS_CA_CERT, or install it on this machine (/usr/local/share/ca-certificates, then update-ca-certificates)";

    public static string Describe(Exception failure, string host)
    {
        ArgumentNullException.ThrowIfNull(failure);
        for (var e = failure; e is not null; e = e.InnerException)
        {
            switch (e)
            {
                case ConnectFailure connect:
                    return connect.Message;
                case AuthenticationException tls:
                    return DescribeTls(tls.Message, host);
            }
        }

        var innermost = failure;
        while (innermost.InnerException is not null)
        {
            innermost = innermost.InnerException;
        }

        return innermost.Message;
    }

    private static string DescribeTls(string message, string host)
    {
        if (message.Contains("RemoteCertificateNameMismatch", StringComparison.Ordinal))
        {
            return $"the server's TLS certificate is not for the name {host}; use the name it was issued for";
        }

        if (message.Contains("NotTimeValid", StringComparison.Ordinal))
        {
            return "the server's TLS certificate has expired or is not valid yet";
        }

        // RemoteCertificateValidationCallback: a client that checks with PrivateCa.Validate refused it.
        if (message.Contains("chain", StringComparison.OrdinalIgnoreCase) || message.Contains("RemoteCertificateChainErrors", StringComparison.Ordinal)
            || message.Contains("RemoteCertificateValidationCallback", StringComparison.Ordinal))
        {
            var detail = message[(message.LastIndexOf(':') + 1)..].Trim();
            return $"the server's TLS certificate is not trusted by this machine ({detail}); {TrustHint}";
        }

        return $"TLS failed ({message})";
    }
}
