using System.Text;
using System.Text.Json;

namespace Trellis.Lab.Demo;

/// <summary>What the demo ends with: the 12 ordered pairs, the tunnels they make, and the subnet route.</summary>
/// <param name="SettledAfter">From every device being up to the matrix round that found every pair on its final path; null when none did.</param>
public sealed record DemoResult(IReadOnlyList<DemoPair> Pairs, DemoRoute Route, TimeSpan? SettledAfter = null)
{
    public int Tunnels => CountTunnels(Pairs);

    /// <summary>Every pair answering on the path its networks allow, and the approved route reachable.</summary>
    public bool Succeeded => Pairs.All(p => p.IsFinal) && Route.Approved && Route.Reachable && !Route.ReachableBeforeApproval;

    /// <summary>Tunnels are unordered pairs that work both ways.</summary>
    public static int CountTunnels(IReadOnlyList<DemoPair> pairs)
    {
        ArgumentNullException.ThrowIfNull(pairs);
        return pairs.Count(p => string.CompareOrdinal(p.From, p.To) < 0 && p.Works
            && pairs.Any(q => q.From == p.To && q.To == p.From && q.Works));
    }

    /// <summary>{"pairs":[{"from","to","path","rttMs"}...],"tunnels":N,"settledAfterSeconds":S|null,"route":{"prefix","approved","reachable"}}.</summary>
    public string ToJson()
    {
        using var buffer = new MemoryStream();
        using (var json = new Utf8JsonWriter(buffer, new JsonWriterOptions { Indented = true }))
        {
            json.WriteStartObject();
            json.WriteStartArray("pairs");
            foreach (var pair in Pairs)
            {
                json.WriteStartObject();
                json.WriteString("from", pair.From);
                json.WriteString("to", pair.To);
                json.WriteString("path", pair.Path);
                if (pair.RttMs is { } rtt)
                {
                    json.WriteNumber("rttMs", rtt);
                }
                else
                {
                    json.WriteNull("rttMs");
                }

                json.WriteEndObject();
            }

            json.WriteEndArray();
            json.WriteNumber("tunnels", Tunnels);
            if (SettledAfter is { } settled)
            {
                json.WriteNumber("settledAfterSeconds", Math.Round(settled.TotalSeconds, 1));
            }
            else
            {
                json.WriteNull("settledAfterSeconds");
            }

            json.WriteStartObject("route");
            json.WriteString("prefix", Route.Prefix);
            json.WriteBoolean("approved", Route.Approved);
            json.WriteBoolean("reachable", Route.Reachable);
            json.WriteEndObject();
            json.WriteEndObject();
        }

        return Encoding.UTF8.GetString(buffer.ToArray());
    }
}

/// <summary>The subnet route one device advertised: whether an admin approved it and another device reached a host in it.</summary>
/// <param name="ReachableBeforeApproval">Should be false: an advertised route is not used until approved.</param>
public sealed record DemoRoute(string Prefix, bool Approved, bool Reachable, bool ReachableBeforeApproval);
