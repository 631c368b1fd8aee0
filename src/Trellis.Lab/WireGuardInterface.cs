using System.Globalization;
using System.Security.Cryptography;
using Trellis.Core.Transport;

namespace Trellis.Lab;

/// <summary>
/// A userspace WireGuard device running in a namespace: <c>wireguard-go -f IFNAME</c> or
/// <c>trellis wireguard IFNAME</c>, configured and inspected only through the standard tools
/// (<c>wg</c> over /var/run/wireguard/IFNAME.sock, <c>ip</c>), exactly as a user would.
/// The socket directory is shared by all namespaces, so interface names are unique per lab.
/// </summary>
public sealed class WireGuardInterface : IAsyncDisposable
{
    public const string SocketDirectory = "/var/run/wireguard";

    /// <summary>How many times a daemon that exits during start-up is started.</summary>
    public const int StartAttempts = 2;

    private readonly string _keyDirectory;
    private bool _disposed;

    private WireGuardInterface(NetNamespace ns, Implementation implementation, string name, LabProcess process)
    {
        Namespace = ns;
        Implementation = implementation;
        Name = name;
        Process = process;
        _keyDirectory = Path.Combine(Path.GetTempPath(), "trellis-lab", $"{ns.Name}-{name}");
    }

    public NetNamespace Namespace { get; }

    public Implementation Implementation { get; }

    public string Name { get; }

    /// <summary>The daemon; its <see cref="LabProcess.Output"/> helps explain failures.</summary>
    public LabProcess Process { get; }

    public string SocketPath => Path.Combine(SocketDirectory, Name + ".sock");

    public override string ToString() => $"{Implementation} {Name} in {Namespace.Name}";

    /// <summary>A fresh interface name: "trl" and 8 hex digits (11 bytes, under the 15-byte limit).</summary>
    public static string NewName() => "trl" + Convert.ToHexStringLower(RandomNumberGenerator.GetBytes(4));

    /// <summary>Starts the daemon in <paramref name="ns"/> and waits until <c>wg show IFNAME</c> answers.</summary>
    public static async Task<WireGuardInterface> StartAsync(
        NetNamespace ns,
        Implementation implementation,
        WireGuardStartOptions? options = null,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(ns);
        options ??= new WireGuardStartOptions();
        var name = options.Name ?? NewName();
        var environment = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var (key, value) in options.Environment ?? new Dictionary<string, string>())
        {
            environment[key] = value;
        }

        string fileName;
        List<string> arguments;
        switch (implementation)
        {
            case Implementation.WireGuardGo:
                fileName = "wireguard-go";
                arguments = ["-f", name];
                break;
            case Implementation.Trellis:
                var trellis = TrellisExecutable.Locate();
                fileName = trellis.FileName;
                arguments = [.. trellis.LeadingArguments, "wireguard", name];
                if (options.ClockRate is int rate)
                {
                    environment[WireGuardStartOptions.ClockRateVariable] = rate.ToString(CultureInfo.InvariantCulture);
                }

                if (!options.Offload)
                {
                    environment[OffloadSwitch.Variable] = OffloadSwitch.Off;
                }

                break;
            default:
                throw new ArgumentOutOfRangeException(nameof(implementation), implementation, null);
        }

        // A daemon that exits at once is started once more: /var/run/wireguard is shared by everything on
        // the machine, and any wg(8) listing it deletes a socket that refuses connections, as wireguard-go's
        // does between its bind and listen; wireguard-go then exits, unable to watch its socket.
        var earlierAttempts = "";
        for (var attempt = 1; ; attempt++)
        {
            var process = ns.StartProcess(fileName, arguments, environment);
            var device = new WireGuardInterface(ns, implementation, name, process);
            var exitedEarly = false;
            try
            {
                // Ready is checked with a connect of our own before `wg show`: wg deletes a socket file whose
                // connect is refused, as it is between wireguard-go's bind and listen, and the daemon then fails.
                await Poll.UntilAsync(
                    async ct =>
                    {
                        exitedEarly = process.HasExited;
                        return exitedEarly
                            || (UnixSocketProbe.Accepts(device.SocketPath)
                                && (await device.WgAsync(ct, "show", name).ConfigureAwait(false)).Succeeded);
                    },
                    options.StartTimeout,
                    $"`wg show {name}` to answer ({implementation})",
                    cancellationToken).ConfigureAwait(false);
                exitedEarly = process.HasExited;
            }
            catch (TimeoutException e)
            {
                await device.DisposeAsync().ConfigureAwait(false);
                throw new TimeoutException($"{e.Message}; daemon output:\n{process.Output}", e);
            }
            catch
            {
                await device.DisposeAsync().ConfigureAwait(false);
                throw;
            }

            if (!exitedEarly)
            {
                return device;
            }

            earlierAttempts +=
                $"\nattempt {attempt}: `{process.CommandLine}` exited with code {process.ExitCode} before `wg show {name}` answered; output:\n{process.Output}";
            await device.DisposeAsync().ConfigureAwait(false);
            if (attempt == StartAttempts)
            {
                throw new LabCommandException($"{implementation} did not start:{earlierAttempts}");
            }
        }
    }

    /// <summary>Runs <c>wg ARGS…</c> inside the namespace (success not required).</summary>
    public Task<CommandResult> WgAsync(params string[] arguments) => WgAsync(CancellationToken.None, arguments);

    /// <summary>Runs <c>wg ARGS…</c> inside the namespace (success not required).</summary>
    public Task<CommandResult> WgAsync(CancellationToken cancellationToken, params string[] arguments) =>
        Namespace.ExecAsync("wg", arguments, CommandOptions.Default, cancellationToken);

    /// <summary><c>wg set IFNAME private-key FILE listen-port PORT [peer …]…</c> in one call.</summary>
    public async Task ConfigureAsync(
        string privateKey,
        int listenPort,
        IEnumerable<WireGuardPeerConfig> peers,
        CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peers);
        var keyFile = await WriteKeyFileAsync(privateKey, cancellationToken).ConfigureAwait(false);
        List<string> arguments =
        [
            "set", Name,
            "private-key", keyFile,
            "listen-port", listenPort.ToString(CultureInfo.InvariantCulture),
        ];
        foreach (var peer in peers)
        {
            arguments.AddRange(peer.ToArguments());
        }

        await SetAsync(arguments, cancellationToken).ConfigureAwait(false);
    }

    /// <summary><c>wg set IFNAME private-key FILE</c> (the key goes through a 0600 file, as wg expects).</summary>
    public async Task SetPrivateKeyAsync(string privateKey, CancellationToken cancellationToken = default)
    {
        var keyFile = await WriteKeyFileAsync(privateKey, cancellationToken).ConfigureAwait(false);
        await SetAsync(["set", Name, "private-key", keyFile], cancellationToken).ConfigureAwait(false);
    }

    public Task SetListenPortAsync(int port, CancellationToken cancellationToken = default) =>
        SetAsync(["set", Name, "listen-port", port.ToString(CultureInfo.InvariantCulture)], cancellationToken);

    /// <summary>Adds the peer, or updates the fields given.</summary>
    public Task SetPeerAsync(WireGuardPeerConfig peer, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(peer);
        return SetAsync(["set", Name, .. peer.ToArguments()], cancellationToken);
    }

    public Task RemovePeerAsync(string publicKey, CancellationToken cancellationToken = default) =>
        SetAsync(["set", Name, "peer", publicKey, "remove"], cancellationToken);

    /// <summary><c>ip addr add ADDRESS dev IFNAME</c> (IPv6 with nodad).</summary>
    public Task AddAddressAsync(LabAddress address, CancellationToken cancellationToken = default) =>
        VethEnd.AddAddressAsync(Namespace, Name, address, cancellationToken);

    /// <summary><c>ip link set IFNAME up</c>.</summary>
    public Task SetUpAsync(CancellationToken cancellationToken = default) =>
        Namespace.IpAsync(cancellationToken, "link", "set", Name, "up");

    /// <summary><c>wg show IFNAME latest-handshakes</c>: public key to Unix seconds (0 = never).</summary>
    public async Task<IReadOnlyDictionary<string, long>> GetLatestHandshakesAsync(CancellationToken cancellationToken = default)
    {
        var table = await ShowAsync("latest-handshakes", cancellationToken).ConfigureAwait(false);
        return table.ToDictionary(
            entry => entry.Key,
            entry => long.Parse(entry.Value, NumberStyles.None, CultureInfo.InvariantCulture),
            StringComparer.Ordinal);
    }

    /// <summary>The latest handshake with one peer, Unix seconds (0 = never); throws when the peer is unknown.</summary>
    public async Task<long> GetLatestHandshakeAsync(string publicKey, CancellationToken cancellationToken = default)
    {
        var handshakes = await GetLatestHandshakesAsync(cancellationToken).ConfigureAwait(false);
        return handshakes.TryGetValue(publicKey, out var seconds)
            ? seconds
            : throw new InvalidOperationException($"{this} has no peer {publicKey}");
    }

    /// <summary><c>wg show IFNAME endpoints</c>: public key to "host:port", or null for "(none)".</summary>
    public async Task<IReadOnlyDictionary<string, string?>> GetEndpointsAsync(CancellationToken cancellationToken = default)
    {
        var table = await ShowAsync("endpoints", cancellationToken).ConfigureAwait(false);
        return table.ToDictionary(
            entry => entry.Key,
            entry => entry.Value == "(none)" ? null : entry.Value,
            StringComparer.Ordinal);
    }

    /// <summary><c>wg show IFNAME listen-port</c>.</summary>
    public async Task<int> GetListenPortAsync(CancellationToken cancellationToken = default)
    {
        var result = (await WgAsync(cancellationToken, "show", Name, "listen-port").ConfigureAwait(false)).EnsureSuccess();
        return int.Parse(result.StandardOutput.Trim(), NumberStyles.None, CultureInfo.InvariantCulture);
    }

    /// <summary>Counter of packets the daemon wrote into the TUN device (what the kernel received).</summary>
    public Task<long> GetTunReceivedPacketsAsync(CancellationToken cancellationToken = default) =>
        Namespace.ReadInterfaceStatisticAsync(Name, "rx_packets", cancellationToken);

    /// <summary>Signals the daemon (SIGTERM by default), SIGKILL after the grace period; returns the exit code.</summary>
    public Task<int> StopAsync(UnixSignal signal = UnixSignal.Terminate, TimeSpan? gracePeriod = null) =>
        Process.HasExited ? Task.FromResult(Process.ExitCode ?? 0) : Process.StopAsync(signal, gracePeriod);

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        _disposed = true;
        try
        {
            await Process.DisposeAsync().ConfigureAwait(false);
        }
        finally
        {
            if (Directory.Exists(_keyDirectory))
            {
                Directory.Delete(_keyDirectory, recursive: true);
            }
        }
    }

    /// <summary>Parses the two-column tab-separated output of <c>wg show IFNAME FIELD</c>.</summary>
    internal static Dictionary<string, string> ParseColumns(string output)
    {
        var table = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in output.Split('\n', StringSplitOptions.RemoveEmptyEntries))
        {
            var columns = line.Split('\t');
            if (columns.Length >= 2)
            {
                table[columns[0]] = columns[1].Trim();
            }
        }

        return table;
    }

    private async Task<Dictionary<string, string>> ShowAsync(string field, CancellationToken cancellationToken)
    {
        var result = (await WgAsync(cancellationToken, "show", Name, field).ConfigureAwait(false)).EnsureSuccess();
        return ParseColumns(result.StandardOutput);
    }

    private async Task SetAsync(IEnumerable<string> arguments, CancellationToken cancellationToken) =>
        (await Namespace.ExecAsync("wg", arguments, CommandOptions.Default, cancellationToken).ConfigureAwait(false)).EnsureSuccess();

    private async Task<string> WriteKeyFileAsync(string privateKey, CancellationToken cancellationToken)
    {
        ArgumentException.ThrowIfNullOrEmpty(privateKey);
        const UnixFileMode OwnerOnly = UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute;
        Directory.CreateDirectory(Path.GetDirectoryName(_keyDirectory)!, OwnerOnly);
        Directory.CreateDirectory(_keyDirectory, OwnerOnly);
        var path = Path.Combine(_keyDirectory, "private.key");
        var options = new FileStreamOptions
        {
            Mode = FileMode.Create,
            Access = FileAccess.Write,
            UnixCreateMode = UnixFileMode.UserRead | UnixFileMode.UserWrite,
        };
        await using (var stream = new FileStream(path, options))
        await using (var writer = new StreamWriter(stream))
        {
            await writer.WriteLineAsync(privateKey.AsMemory(), cancellationToken).ConfigureAwait(false);
        }

        return path;
    }
}
