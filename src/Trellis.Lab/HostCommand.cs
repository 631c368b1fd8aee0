using System.Diagnostics;

namespace Trellis.Lab;

/// <summary>
/// Runs a program to completion and captures its output. Arguments are passed one by one
/// (<see cref="ProcessStartInfo.ArgumentList"/>), never through a shell.
/// </summary>
public static class HostCommand
{
    public static Task<CommandResult> RunAsync(string fileName, params string[] arguments) =>
        RunAsync(fileName, arguments, CommandOptions.Default, CancellationToken.None);

    public static async Task<CommandResult> RunAsync(
        string fileName,
        IEnumerable<string> arguments,
        CommandOptions? options,
        CancellationToken cancellationToken = default)
    {
        ArgumentException.ThrowIfNullOrEmpty(fileName);
        options ??= CommandOptions.Default;
        var startInfo = CreateStartInfo(fileName, arguments, options.Environment);
        startInfo.RedirectStandardInput = true;
        var commandLine = Describe(startInfo);

        using var process = new Process { StartInfo = startInfo };
        try
        {
            process.Start();
        }
        catch (System.ComponentModel.Win32Exception e)
        {
            throw new LabCommandException($"cannot start `{commandLine}`: {e.Message}", e);
        }

        var stdout = process.StandardOutput.ReadToEndAsync(CancellationToken.None);
        var stderr = process.StandardError.ReadToEndAsync(CancellationToken.None);
        try
        {
            if (options.StandardInput is not null)
            {
                await process.StandardInput.WriteAsync(options.StandardInput).ConfigureAwait(false);
            }

            process.StandardInput.Close();
        }
        catch (IOException)
        {
            // The program exited without reading its input; its exit code tells the rest.
        }

        var timedOut = false;
        using (var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken))
        {
            timeout.CancelAfter(options.Timeout);
            try
            {
                await process.WaitForExitAsync(timeout.Token).ConfigureAwait(false);
            }
            catch (OperationCanceledException)
            {
                KillTree(process);
                await process.WaitForExitAsync(CancellationToken.None).ConfigureAwait(false);
                cancellationToken.ThrowIfCancellationRequested();
                timedOut = true;
            }
        }

        var result = new CommandResult(
            commandLine,
            timedOut ? -1 : process.ExitCode,
            await stdout.ConfigureAwait(false),
            await stderr.ConfigureAwait(false),
            timedOut);
        return result;
    }

    internal static ProcessStartInfo CreateStartInfo(
        string fileName,
        IEnumerable<string> arguments,
        IReadOnlyDictionary<string, string>? environment)
    {
        var startInfo = new ProcessStartInfo(fileName)
        {
            UseShellExecute = false,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
        };
        foreach (var argument in arguments)
        {
            startInfo.ArgumentList.Add(argument);
        }

        if (environment is not null)
        {
            foreach (var (name, value) in environment)
            {
                startInfo.Environment[name] = value;
            }
        }

        return startInfo;
    }

    /// <summary>A readable rendering of a command line, for messages (quotes arguments with spaces).</summary>
    internal static string Describe(ProcessStartInfo startInfo)
    {
        var parts = new List<string> { startInfo.FileName };
        foreach (var argument in startInfo.ArgumentList)
        {
            parts.Add(argument.Length == 0 || argument.Contains(' ', StringComparison.Ordinal) ? $"'{argument}'" : argument);
        }

        return string.Join(' ', parts);
    }

    private static void KillTree(Process process)
    {
        try
        {
            process.Kill(entireProcessTree: true);
        }
        catch (InvalidOperationException)
        {
            // Already exited.
        }
    }
}
