// What a request needs and what a token grants, in the token spec's terms: a resource scope
// "<type>:<name>:<actions>" (docs/spec/auth/scope.md), here "repository:<name>:pull" for a pull and
// "registry:catalog:*" for /v2/_catalog, and the JWT claim "access", a list of
// {"type","name","actions"} (docs/spec/auth/jwt.md). This registry grants pull and nothing
// else: a scope that asks for push gets pull only, as the spec lets a token server grant a subset.
// https://github.com/distribution/distribution/blob/main/docs/content/spec/auth/scope.md
using System.Text.Json.Serialization;
using Nixery.Core.Names;

namespace Nixery.Functions.Auth;

public sealed record AccessScope(
    [property: JsonPropertyName("type")] string Type,
    [property: JsonPropertyName("name")] string Name,
    [property: JsonPropertyName("actions")] IReadOnlyList<string> Actions)
{
    public const string Repository = "repository";
    public const string Pull = "pull";

    public static AccessScope Catalog { get; } = new("registry", "catalog", ["*"]);

    public static AccessScope PullOf(string name) => new(Repository, name, [Pull]);

    /// <summary>As the WWW-Authenticate scope parameter and the token endpoint's scope query write it.</summary>
    public override string ToString() => $"{Type}:{Name}:{string.Join(',', Actions)}";

    /// <summary>True when this grant covers every action of <paramref name="needed"/> on its resource.</summary>
    public bool Covers(AccessScope needed) =>
        Type == needed.Type && Name == needed.Name && needed.Actions.All(a => Actions.Contains(a) || Actions.Contains("*"));

    /// <summary>Parses "type:name:actions". A name may hold a port's colon (a registry host),
    /// so the type is before the first colon and the actions after the last.</summary>
    public static AccessScope? TryParse(string text)
    {
        var first = text.IndexOf(':', StringComparison.Ordinal);
        var last = text.LastIndexOf(':');
        if (first <= 0 || last <= first + 1)
        {
            return null;
        }

        var actions = text[(last + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        return new AccessScope(text[..first], text[(first + 1)..last], actions);
    }

    /// <summary>What this registry grants of a requested scope: pull of a valid repository name,
    /// the catalog, or nothing.</summary>
    public AccessScope? Granted() => this switch
    {
        { Type: Repository } when ReferenceGrammar.IsValidName(Name) && (Actions.Contains(Pull) || Actions.Contains("*")) => PullOf(Name),
        { Type: "registry", Name: "catalog" } when Actions.Contains("*") => Catalog,
        _ => null,
    };
}
