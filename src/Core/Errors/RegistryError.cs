// Every error this registry can answer with, registered once with its HTTP status, in the
// manner of distribution's errcode.Register. The body is always the spec's
// {"errors":[{"code","message","detail"}]}; clients show "message" to users, and they never
// show a 5xx body, so anything a user must read is a 4xx here.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#error-codes
using System.Text.Json.Serialization;

namespace Nixery.Core.Errors;

public sealed record ErrorCode(string Code, int Status, string Description)
{
    public static readonly ErrorCode BlobUnknown = new("BLOB_UNKNOWN", 404, "blob unknown to registry");
    public static readonly ErrorCode DigestInvalid = new("DIGEST_INVALID", 400, "provided digest did not match uploaded content");
    public static readonly ErrorCode ManifestUnknown = new("MANIFEST_UNKNOWN", 404, "manifest unknown");
    public static readonly ErrorCode NameInvalid = new("NAME_INVALID", 400, "invalid repository name");

    /// <summary>The spec's 404 for a name that is not a repository here: a path under /v2/ that
    /// is no endpoint, and the tags of a name whose packages are known not to exist (as the
    /// reference registry answers tags/list of a repository it does not hold).</summary>
    public static readonly ErrorCode NameUnknown = new("NAME_UNKNOWN", 404, "repository name not known to registry");

    /// <summary>The reference registry's code for a bad `n` in tags/list or _catalog (not in
    /// the OCI spec's list, which defines no answer for it).</summary>
    public static readonly ErrorCode PaginationNumberInvalid = new("PAGINATION_NUMBER_INVALID", 400, "invalid number of results requested");

    /// <summary>No credentials, wrong ones, or a token that does not cover the request; the
    /// answer carries the WWW-Authenticate challenge (src/Functions/Auth/RegistryAuth.cs).</summary>
    public static readonly ErrorCode Unauthorized = new("UNAUTHORIZED", 401, "authentication required");

    public static readonly ErrorCode TagInvalid = new("TAG_INVALID", 400, "manifest tag did not match URI");
    public static readonly ErrorCode Unsupported = new("UNSUPPORTED", 405, "the operation is unsupported");
    public static readonly ErrorCode TooManyRequests = new("TOOMANYREQUESTS", 429, "too many requests");
    public static readonly ErrorCode RangeInvalid = new("RANGE_INVALID", 416, "invalid content range");
    public static readonly ErrorCode Unavailable = new("UNAVAILABLE", 503, "service unavailable");

    /// <summary>Not a spec code: an If-Match or If-Unmodified-Since that the stored bytes fail (RFC 9110 §13.1).</summary>
    public static readonly ErrorCode PreconditionFailed = new("PRECONDITION_FAILED", 412, "a precondition of the request failed");

    public static IReadOnlyList<ErrorCode> All { get; } =
        [BlobUnknown, DigestInvalid, ManifestUnknown, NameInvalid, NameUnknown, PaginationNumberInvalid, Unauthorized, TagInvalid, Unsupported, TooManyRequests, RangeInvalid, Unavailable, PreconditionFailed];
}

public sealed record ErrorEntry(
    [property: JsonPropertyName("code")] string Code,
    [property: JsonPropertyName("message")] string Message,
    [property: JsonPropertyName("detail"), JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)] IReadOnlyDictionary<string, IReadOnlyList<string>>? Detail = null);

public sealed record ErrorBody([property: JsonPropertyName("errors")] IReadOnlyList<ErrorEntry> Errors);

/// <summary>A registry error on its way to the client: thrown or returned by handlers and
/// written by one writer (Functions/Registry/ErrorWriter).</summary>
public sealed class RegistryException(
    ErrorCode code,
    string message,
    IReadOnlyDictionary<string, string>? headers = null,
    IReadOnlyDictionary<string, IReadOnlyList<string>>? detail = null)
    : Exception(message)
{
    public ErrorCode Code { get; } = code;

    public IReadOnlyDictionary<string, IReadOnlyList<string>>? Detail { get; } = detail;

    public IReadOnlyDictionary<string, string> Headers { get; } = headers ?? new Dictionary<string, string>();
}
