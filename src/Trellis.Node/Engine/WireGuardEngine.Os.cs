using System.Net;

namespace Trellis.Node.Engine;

/// <summary>The TUN's link, addresses and routes.</summary>
public sealed partial class WireGuardEngine
{
    private void ConfigureLink(List<Exception> failures)
    {
        if (!_linkConfigured)
        {
            _linkConfigured = OsChange.Try(failures, () => _os.ConfigureLink(_tun.Name, _mtu));
        }
    }

    private void ApplyAddresses(IReadOnlyList<InterfaceAddress> wanted, List<Exception> failures)
    {
        foreach (var address in _addresses.Where(a => !wanted.Contains(a)).ToList())
        {
            if (OsChange.Try(failures, () => _os.RemoveAddress(_tun.Name, address)))
            {
                _addresses.Remove(address);
            }
        }

        foreach (var address in wanted)
        {
            if (!_addresses.Contains(address) && OsChange.Try(failures, () => _os.AddAddress(_tun.Name, address)))
            {
                _addresses.Add(address);
            }
        }
    }

    private void ApplyRoutes(IReadOnlyList<IPNetwork> wanted, List<Exception> failures)
    {
        foreach (var route in _routes.Where(r => !wanted.Contains(r)).ToList())
        {
            if (OsChange.Try(failures, () => _os.RemoveRoute(_tun.Name, route)))
            {
                _routes.Remove(route);
            }
        }

        foreach (var route in wanted)
        {
            if (!_routes.Contains(route) && OsChange.Try(failures, () => _os.AddRoute(_tun.Name, route)))
            {
                _routes.Add(route);
            }
        }
    }
}
