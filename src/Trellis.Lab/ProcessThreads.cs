using System.Text;

namespace Trellis.Lab;

/// <summary>What each thread of a live process is doing, from /proc: enough to tell a hang from a slow machine.</summary>
public static class ProcessThreads
{
    public static string Describe(int pid)
    {
        var text = new StringBuilder();
        try
        {
            foreach (var task in Directory.EnumerateDirectories($"/proc/{pid}/task"))
            {
                var name = ReadOrEmpty(Path.Combine(task, "comm"));
                var wchan = ReadOrEmpty(Path.Combine(task, "wchan"));
                var stat = ReadOrEmpty(Path.Combine(task, "stat"));

                // The state letter follows the parenthesised command name.
                var close = stat.LastIndexOf(')');
                var state = close >= 0 && close + 2 < stat.Length ? stat[close + 2] : '?';
                text.Append(Path.GetFileName(task)).Append(' ').Append(name).Append(" state ").Append(state)
                    .Append(" wchan ").Append(wchan.Length == 0 ? "-" : wchan).Append('\n');
            }
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            text.Append("(/proc/").Append(pid).Append(" unreadable: ").Append(e.Message).Append(')');
        }

        return text.ToString();
    }

    private static string ReadOrEmpty(string path)
    {
        try
        {
            return File.ReadAllText(path).Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return "";
        }
    }
}
