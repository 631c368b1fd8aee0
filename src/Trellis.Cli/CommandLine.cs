using System.CommandLine;

namespace Trellis.Cli;

/// <summary>
/// Parsing and running a command line, shared by `trellis` and `trellis-node`; each executable lists its
/// own verbs in its CommandLine.Verbs.cs. Exit codes: 0 success, 1 failure, 2 usage error.
/// </summary>
public static partial class CommandLine
{
    public const int Success = 0;
    public const int Failure = 1;
    public const int UsageError = 2;

    public static int Run(string[] args, TextWriter? output = null, TextWriter? error = null)
    {
        var root = Build();
        var parse = root.Parse(args);
        var config = new InvocationConfiguration
        {
            Output = output ?? Console.Out,
            Error = error ?? Console.Error,
        };
        if (parse.Errors.Count > 0)
        {
            UsageErrors.Write(parse, args, config.Error);
            return UsageError;
        }

        return parse.Invoke(config);
    }
}
