using ARSoft.Tools.Net;
using ARSoft.Tools.Net.Dns;

namespace Trellis.Node.Dns;

/// <summary>
/// The resolver's own answers: A and AAAA for mesh names (full and short) and extra records, PTR for
/// overlay addresses, NXDOMAIN for unknown names under the base domain. Pure, so every rule is
/// unit-tested without sockets. Null means the question is someone else's: forward it.
/// </summary>
internal static class MeshAnswers
{
    /// <summary>Short, so a rename or a new address reaches caching clients within half a minute.</summary>
    public const int TtlSeconds = 30;

    public static DnsMessage? TryAnswer(DnsMessage query, MeshNames names)
    {
        if (query.OperationCode != OperationCode.Query || query.Questions.Count != 1)
        {
            return Failure(query, query.OperationCode != OperationCode.Query ? ReturnCode.NotImplemented : ReturnCode.FormatError);
        }

        var question = query.Questions[0];
        var name = Normalize(question.Name);
        if (question.RecordClass is not (RecordClass.INet or RecordClass.Any))
        {
            return null;
        }

        if (names.Addresses(name) is { } addresses)
        {
            var response = Response(query, ReturnCode.NoError);
            foreach (var address in addresses)
            {
                var v4 = MeshNames.IsIPv4(address);
                if (v4 && question.RecordType is RecordType.A or RecordType.Any)
                {
                    response.AnswerRecords.Add(new ARecord(question.Name, TtlSeconds, address));
                }
                else if (!v4 && question.RecordType is RecordType.Aaaa or RecordType.Any)
                {
                    response.AnswerRecords.Add(new AaaaRecord(question.Name, TtlSeconds, address));
                }
            }

            return response;
        }

        if (names.NameOf(name) is { } owner)
        {
            var response = Response(query, ReturnCode.NoError);
            if (question.RecordType is RecordType.Ptr or RecordType.Any)
            {
                response.AnswerRecords.Add(new PtrRecord(question.Name, TtlSeconds, DomainName.Parse(owner)));
            }

            return response;
        }

        return names.IsAuthoritativeFor(name) ? Response(query, ReturnCode.NxDomain) : null;
    }

    /// <summary>An answer with no records (errors, refusals, a failed forward).</summary>
    public static DnsMessage Failure(DnsMessage query, ReturnCode code)
    {
        var response = query.CreateResponseInstance();
        response.ReturnCode = code;
        return response;
    }

    /// <summary>"Alpha.Trellis.Internal." as the tables hold it: "alpha.trellis.internal".</summary>
    public static string Normalize(DomainName name) => name.ToString().TrimEnd('.').ToLowerInvariant();

    private static DnsMessage Response(DnsMessage query, ReturnCode code)
    {
        var response = query.CreateResponseInstance();
        response.ReturnCode = code;
        response.IsAuthoritiveAnswer = true;
        response.IsRecursionAllowed = true;
        return response;
    }
}
