// GET and HEAD /failures: the recent failures (RecentFailures) as JSON, for scripts and for
// whoever needs more than a client prints, e.g. the whole log tail:
//   {"failures":[{"image":"git/shell","reason":"…","missing":[…],"log":[…],"at":"…"}]}
// newest first; "missing" and "log" only when the failure has them. Query strings are ignored.
using System.Text.Json;
using System.Text.Json.Serialization;
using Nixery.Functions.Builds;

namespace Nixery.Functions.Web;

public sealed record FailureList([property: JsonPropertyName("failures")] IReadOnlyList<RecentFailure> Failures);

[JsonSourceGenerationOptions(WriteIndented = false)]
[JsonSerializable(typeof(FailureList))]
[JsonSerializable(typeof(BuildView))]
internal sealed partial class WebJson : JsonSerializerContext;

public sealed class FailuresHandler(RecentFailures failures)
{
    public async Task HandleAsync(HttpContext context)
    {
        var list = await failures.GetAsync(context.RequestAborted);
        var body = JsonSerializer.SerializeToUtf8Bytes(new FailureList(list), WebJson.Default.FailureList);
        await WebResponse.WriteAsync(context, "application/json", body);
    }
}
