using System.Diagnostics;
using System.Text;

namespace Trellis.Lab;

/// <summary>
/// A long-running program started by the lab (a WireGuard daemon, an iperf3 server). Its stdout and
/// stderr are collected into <see cref="Output"/> (the last <see cref="OutputLimit"/> characters).
/// Stop it with <see cref="StopAsync"/>: SIGTERM (or another signal), then SIGKILL after a grace period.
/// </summary>
public sealed class LabProcess : IAsyncDisposable
{
    public const int OutputLimit = 256 * 1024;

    public static readonly TimeSpan DefaultGracePeriod = TimeSpan.FromSeconds(5);

    private readonly Process _process;
    private bool _disposed;

    // guarded by lock (_output)
    private readonly StringBuilder _output = new();

    private LabProcess(Process process, string commandLine)
    {
        _process = process;
        CommandLine = commandLine;
    }

    public string CommandLine { get; }

    public int Id => _process.Id;

    public bool HasExited => _process.HasExited;

    /// <summary>The exit code, once the process has exited.</summary>
    public int? ExitCode => _process.HasExited ? _process.ExitCode : null;

    /// <summary>What the process wrote so far, stdout and stderr interleaved by line.</summary>
    public string Output
    {
        get
        {
            lock (_output)
            {
                return _output.ToString();
            }
        }
    }

    public static LabProcess Start(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment = null)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        var startInfo = HostCommand.CreateStartInfo(fileName, arguments, environment);
        var process = new Process { StartInfo = startInfo, EnableRaisingEvents = true };
        var labProcess = new LabProcess(process, HostCommand.Describe(startInfo));
        process.OutputDataReceived += (_, e) => labProcess.Append(e.Data);
        process.ErrorDataReceived += (_, e) => labProcess.Append(e.Data);
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            process.Dispose();
            throw new LabCommandException($"cannot start `{labProcess.CommandLine}`: {e.Message}", e);
        }

        process.BeginOutputReadLine();
        process.BeginErrorReadLine();
        return labProcess;
    }

    /// <summary>Sends a signal; false when the process had already exited.</summary>
    public bool Signal(UnixSignal signal) => !_process.HasExited && NativeMethods.SendSignal(_process.Id, signal);

    /// <summary>Waits for the process to exit and returns its exit code; throws <see cref="TimeoutException"/>.</summary>
    public async Task<int> WaitForExitAsync(TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        using var cts = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        cts.CancelAfter(timeout);
        try
        {
            await _process.WaitForExitAsync(cts.Token).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new TimeoutException(
                $"`{CommandLine}` did not exit within {timeout.TotalSeconds:0.#} s; its threads:\n{ProcessThreads.Describe(Id)}\noutput:\n{Output}");
        }

        return _process.ExitCode;
    }

    /// <summary>
    /// Sends <paramref name="signal"/>, waits up to <paramref name="gracePeriod"/> for an exit, then sends
    /// SIGKILL. Returns the exit code (for a signal death, what .NET reports: 128 + signal).
    /// </summary>
    public async Task<int> StopAsync(UnixSignal signal = UnixSignal.Terminate, TimeSpan? gracePeriod = null)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        if (!_process.HasExited)
        {
            Signal(signal);
            try
            {
                return await WaitForExitAsync(gracePeriod ?? DefaultGracePeriod).ConfigureAwait(false);
            }
            catch (TimeoutException)
            {
                Append($"[lab] no exit {(gracePeriod ?? DefaultGracePeriod).TotalSeconds:0.#} s after {signal}; sending SIGKILL");
                Signal(UnixSignal.Kill);
            }
        }

        await _process.WaitForExitAsync().ConfigureAwait(false);
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (_disposed)
        {
            return;
        }

        try
        {
            await StopAsync().ConfigureAwait(false);
        }
        finally
        {
            _disposed = true;
            _process.Dispose();
        }
    }

    private void Append(string? line)
    {
        if (line is null)
        {
            return;
        }

        lock (_output)
        {
            _output.Append(line).Append('\n');
            if (_output.Length > OutputLimit)
            {
                _output.Remove(0, _output.Length - OutputLimit);
            }
        }
    }
}
