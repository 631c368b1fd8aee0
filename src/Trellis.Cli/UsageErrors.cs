using System.CommandLine;
using System.CommandLine.Parsing;

namespace Trellis.Cli;

/// <summary>
/// How a command line that does not parse is reported: an unknown flag gets the nearest valid one, a
/// value after an unknown flag is never echoed (it may be a secret, as in a mistyped `--auth-key KEY`),
/// a command group without its subcommand lists them, and the help hint names the verb.
/// </summary>
internal static partial class UsageErrors
{
    public static void Write(ParseResult parse, IReadOnlyList<string> args, TextWriter error)
    {
        var command = parse.CommandResult.Command;
        var path = Path(parse.CommandResult);
        var unmatched = parse.UnmatchedTokens.ToHashSet(StringComparer.Ordinal);
        var reported = false;
        for (var i = 0; i < args.Count; i++)
        {
            var token = args[i];
            if (!unmatched.Contains(token))
            {
                continue;
            }

            reported = true;
            if (token.StartsWith('-'))
            {
                var name = token.Split('=', ':')[0];
                var nearest = Nearest(name, command.Options.SelectMany(o => o.Aliases.Prepend(o.Name)));
                error.WriteLine(nearest is null ? $"{path}: unknown option '{name}'" : $"{path}: unknown option '{name}'; did you mean {nearest}?");

                // Its value, if any, is not shown: it may be the secret the flag was meant to carry.
                if (i + 1 < args.Count && !args[i + 1].StartsWith('-') && unmatched.Contains(args[i + 1]))
                {
                    i++;
                }
            }
            else
            {
                var nearest = command.Subcommands.Count > 0 ? Nearest(token, command.Subcommands.Select(c => c.Name)) : null;
                error.WriteLine(nearest is null ? $"{path}: unexpected argument '{token}'" : $"{path}: unknown command '{token}'; did you mean {nearest}?");
                if (command.Subcommands.Count > 0)
                {
                    break; // what follows an unknown command is its arguments, not more mistakes
                }
            }
        }

        foreach (var e in parse.Errors)
        {
            if (e.Message.StartsWith("Unrecognized command or argument", StringComparison.Ordinal))
            {
                continue; // said above, without echoing values
            }

            if (command.Subcommands.Count > 0 && command.Action is null && !reported)
            {
                error.WriteLine($"{path}: give one of its commands:");
                var width = command.Subcommands.Max(c => c.Name.Length);
                foreach (var sub in command.Subcommands.Where(c => !c.Hidden))
                {
                    error.WriteLine($"  {sub.Name.PadRight(width)}  {sub.Description}");
                }

                reported = true;
                continue;
            }

            if (command.Subcommands.Count > 0 && command.Action is null)
            {
                continue;
            }

            error.WriteLine($"{path}: {Plain(e.Message)}");
        }

        error.WriteLine($"Try '{path} --help'.");
    }

    /// <summary>The parser's "as expected type 'System.Nullable`1[System.Int32]'" in words a user knows.</summary>
    private static string Plain(string message)
    {
        var match = CannotParse().Match(message);
        if (!match.Success)
        {
            return message;
        }

        var type = match.Groups["type"].Value;
        var kind = type.Contains("Int", StringComparison.Ordinal) ? "a whole number"
            : type.Contains("Boolean", StringComparison.Ordinal) ? "true or false"
            : type.Contains("TimeSpan", StringComparison.Ordinal) ? "a duration"
            : "a valid value";
        return $"'{match.Groups["value"].Value}' is not {kind} for {match.Groups["option"].Value}";
    }

    [System.Text.RegularExpressions.GeneratedRegex("^Cannot parse argument '(?<value>.*)' for (option|command|argument) '(?<option>[^']*)' as expected type '(?<type>[^']*)'")]
    private static partial System.Text.RegularExpressions.Regex CannotParse();

    /// <summary>"trellis nodes approve": the verbs the parse reached.</summary>
    private static string Path(CommandResult result)
    {
        var names = new List<string>();
        for (SymbolResult? r = result; r is not null; r = r.Parent)
        {
            if (r is CommandResult c)
            {
                names.Add(c.Parent is null ? "trellis" : c.Command.Name);
            }
        }

        names.Reverse();
        return string.Join(' ', names);
    }

    /// <summary>The candidate closest to <paramref name="typed"/> by edit distance, if close enough to be a typo.</summary>
    internal static string? Nearest(string typed, IEnumerable<string> candidates) => Trellis.Core.NearestName.Find(typed, candidates);
}
