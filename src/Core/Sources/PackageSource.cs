// A package source at a revision: what an image key hashes and what a build job carries, so
// the worker fetches exactly the packages the request was resolved against.
using System.Text.Json.Serialization;

namespace Nixery.Core.Sources;

/// <summary>Where packages come from, resolved to a revision when the request was made.</summary>
public sealed record PackageSource(
    [property: JsonPropertyName("kind")] string Kind,
    [property: JsonPropertyName("location")] string Location,
    [property: JsonPropertyName("revision")] string Revision);
