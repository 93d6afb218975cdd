// The build job's message text as the build function receives it (the trigger has decoded
// the Base64) and the poison record it writes for a job it will not retry.
using System.Text.Json;
using Nixery.Core.Manifests;
using Nixery.Core.Queue;

namespace Nixery.Core.Tests.Queue;

public sealed class BuildMessagesTests
{
    public static TheoryData<string, string> NotJobs => new()
    {
        { "{not json", "not a valid build job" },
        { "[1, 2, 3]", "not a build job object" },
        { "{\"hello\": \"world\"}", "no whole-number \"version\"" },
        { "{\"version\": 3, \"jobId\": \"from-the-future\"}", "build job version 3 is not understood" },
        { "{\"version\": 1, \"jobId\": \"old\"}", "build job version 1 is not understood" },
        { "{\"version\": 2, \"jobId\": \"half\"}", "lacks fields" },
        { "{\"version\": 2, \"jobId\": 7}", "not a valid build job" },
    };

    [Theory]
    [MemberData(nameof(NotJobs))]
    public void TextThatIsNotAJobIsRefusedWithTheReason(string text, string reasonPart)
    {
        var (job, reason) = BuildMessages.Parse(text);

        Assert.Null(job);
        Assert.Contains(reasonPart, reason, StringComparison.Ordinal);
    }

    [Fact]
    public void AJobParsesWithNoReason()
    {
        var job = AzureStorageQueueTests.Job("ok");

        var (parsed, reason) = BuildMessages.Parse(JsonSerializer.Serialize(job, CoreJson.Default.BuildJob));

        Assert.Equal("", reason);
        Assert.Equal("ok", parsed?.JobId);
    }

    [Fact]
    public void PoisonRecordHoldsTheJobTextTheReasonAndTheDeliveries()
    {
        var json = BuildMessages.Poison("{\"version\":2}", "nix failed", 2);

        Assert.Equal("{\"job\":\"{\\u0022version\\u0022:2}\",\"reason\":\"nix failed\",\"dequeueCount\":2}", json);
    }

    [Fact]
    public void PoisonRecordOfAJobNearTheSizeLimitKeepsItsStartAndSaysSo()
    {
        var job = new string('x', BuildMessages.MaxMessageChars);

        var json = BuildMessages.Poison(job, "nix failed", 1);
        using var record = JsonDocument.Parse(json);

        Assert.True(BuildMessages.Base64(json).Length <= BuildMessages.MaxMessageChars);
        Assert.StartsWith("xxxx", record.RootElement.GetProperty("job").GetString(), StringComparison.Ordinal);
        Assert.Equal("nix failed (job text truncated)", record.RootElement.GetProperty("reason").GetString());
    }
}
