using System.Net;
using System.Net.Sockets;
using Trellis.Net.Netlink;

namespace Trellis.Node.Engine;

/// <summary>
/// An in-memory <see cref="IOsNetworkConfig"/> that keeps the state the calls would leave behind and
/// a log of every change, so the engine's reconcile logic is tested without root or a kernel. Calls
/// are logged in <c>ip</c>-like words ("route add 100.64.0.0/10 dev trellis0").
/// </summary>
public sealed class RecordingNetworkConfig : IOsNetworkConfig
{
    private readonly Lock _gate = new();
    private readonly Dictionary<string, int> _links = [];
    private readonly Dictionary<string, HashSet<InterfaceAddress>> _addresses = [];
    private readonly Dictionary<string, HashSet<IPNetwork>> _routes = [];
    private readonly Dictionary<AddressFamily, bool> _forwarding = [];
    private readonly Dictionary<string, IReadOnlyList<MasqueradeRule>> _masquerade = [];
    private readonly List<string> _log = [];
    private readonly HashSet<RoutingRule> _rules = [];
    private bool _srcValidMark;
    private readonly HashSet<(uint Table, IPNetwork Destination)> _tableRoutes = [];

    /// <param name="ipv4Forwarding">Forwarding as found before the engine starts.</param>
    public RecordingNetworkConfig(bool ipv4Forwarding = false, bool ipv6Forwarding = false)
    {
        _forwarding[AddressFamily.InterNetwork] = ipv4Forwarding;
        _forwarding[AddressFamily.InterNetworkV6] = ipv6Forwarding;
    }

    /// <summary>When set and true for an operation's log text, that operation throws an <see cref="IOException"/> instead.</summary>
    public Func<string, bool>? FailWhen { get; set; }

    public bool IsDisposed { get; private set; }

    /// <summary>Every change so far, in order.</summary>
    public IReadOnlyList<string> Log
    {
        get
        {
            lock (_gate)
            {
                return [.. _log];
            }
        }
    }

    /// <summary>The MTU of an interface the engine brought up, or null.</summary>
    public int? LinkMtu(string interfaceName)
    {
        lock (_gate)
        {
            return _links.TryGetValue(interfaceName, out var mtu) ? mtu : null;
        }
    }

    public IReadOnlyList<string> Addresses(string interfaceName)
    {
        lock (_gate)
        {
            return _addresses.TryGetValue(interfaceName, out var set) ? [.. set.Select(a => a.ToString()).Order(StringComparer.Ordinal)] : [];
        }
    }

    public IReadOnlyList<string> Routes(string interfaceName)
    {
        lock (_gate)
        {
            return _routes.TryGetValue(interfaceName, out var set) ? [.. set.Select(r => r.ToString()).Order(StringComparer.Ordinal)] : [];
        }
    }

    /// <summary>The masquerade rules of <paramref name="table"/>, or null when the table does not exist.</summary>
    public IReadOnlyList<MasqueradeRule>? Masquerade(string table)
    {
        lock (_gate)
        {
            return _masquerade.GetValueOrDefault(table);
        }
    }

    public void ClearLog()
    {
        lock (_gate)
        {
            _log.Clear();
        }
    }

    public void ConfigureLink(string interfaceName, int mtu) =>
        Change($"link set {interfaceName} mtu {mtu} up", () => _links[interfaceName] = mtu);

    public void AddAddress(string interfaceName, InterfaceAddress address) =>
        Change($"address add {address} dev {interfaceName}", () => SetOf(_addresses, interfaceName).Add(address));

    public void RemoveAddress(string interfaceName, InterfaceAddress address) =>
        Change($"address del {address} dev {interfaceName}", () => SetOf(_addresses, interfaceName).Remove(address));

    public void AddRoute(string interfaceName, IPNetwork destination) =>
        Change($"route add {destination} dev {interfaceName}", () => SetOf(_routes, interfaceName).Add(destination));

    public void RemoveRoute(string interfaceName, IPNetwork destination) =>
        Change($"route del {destination} dev {interfaceName}", () => SetOf(_routes, interfaceName).Remove(destination));

    public void AddTableRoute(string interfaceName, IPNetwork destination, uint table, IPAddress? source) =>
        Change($"route replace {destination} dev {interfaceName} table {table}{(source is null ? "" : $" src {source}")}", () => _tableRoutes.Add((table, destination)));

    public void RemoveTableRoute(string interfaceName, IPNetwork destination, uint table) =>
        Change($"route del {destination} dev {interfaceName} table {table}", () => _tableRoutes.Remove((table, destination)));

    public void AddRule(RoutingRule rule) => Change($"rule add {rule}", () => _rules.Add(rule));

    public void RemoveRule(RoutingRule rule) => Change($"rule del {rule}", () => _rules.Remove(rule));

    /// <summary>Routing policy rules in place, as <c>ip rule</c> words, sorted.</summary>
    public IReadOnlyList<string> Rules()
    {
        lock (_gate)
        {
            return [.. _rules.Select(r => r.ToString()).Order(StringComparer.Ordinal)];
        }
    }

    /// <summary>Routes in tables other than main, as "table: prefix", sorted.</summary>
    public IReadOnlyList<string> TableRoutes()
    {
        lock (_gate)
        {
            return [.. _tableRoutes.Select(r => $"{r.Table}: {r.Destination}").Order(StringComparer.Ordinal)];
        }
    }

    public void SetMarkRestore(string table, uint mark) => Change($"mark restore set {table}: 0x{mark:x}", () => { });

    public void RemoveMarkRestore(string table) => Change($"mark restore remove {table}", () => { });

    public bool IsSrcValidMarkEnabled()
    {
        lock (_gate)
        {
            return _srcValidMark;
        }
    }

    public void SetSrcValidMark(bool enabled) => Change($"src_valid_mark {(enabled ? 1 : 0)}", () => _srcValidMark = enabled);

    public bool IsForwardingEnabled(AddressFamily family)
    {
        lock (_gate)
        {
            return _forwarding[family];
        }
    }

    public void SetForwarding(AddressFamily family, bool enabled) =>
        Change($"forwarding {(family == AddressFamily.InterNetwork ? "ipv4" : "ipv6")} {(enabled ? 1 : 0)}", () => _forwarding[family] = enabled);

    public void SetMasquerade(string table, IReadOnlyList<MasqueradeRule> rules) =>
        Change($"masquerade set {table}: {string.Join(", ", rules)}", () => _masquerade[table] = [.. rules]);

    public void RemoveMasquerade(string table) =>
        Change($"masquerade remove {table}", () => _masquerade.Remove(table));

    public void Dispose()
    {
        lock (_gate)
        {
            IsDisposed = true;
        }
    }

    private void Change(string operation, Action apply)
    {
        lock (_gate)
        {
            ObjectDisposedException.ThrowIf(IsDisposed, this);
            if (FailWhen?.Invoke(operation) == true)
            {
                throw new IOException($"{operation}: failed (simulated)");
            }

            apply();
            _log.Add(operation);
        }
    }

    private static HashSet<T> SetOf<T>(Dictionary<string, HashSet<T>> sets, string interfaceName)
    {
        if (!sets.TryGetValue(interfaceName, out var set))
        {
            set = [];
            sets.Add(interfaceName, set);
        }

        return set;
    }
}
