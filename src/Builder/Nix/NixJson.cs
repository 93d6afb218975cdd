// Shapes of the JSON Nix prints (checked against Nix 2.8) and of a package set's nixery.json.
//
//   prepare-image.nix via nix-instantiate --eval --strict --json:
//     {"error":"not_found","pkgs":["nosuchpkg"]}  or
//     {"drvs":[…],"names":[…],"outs":[…],"licenses":{"/nix/store/…":[{"name":"GPL-3+","spdxId":"GPL-3.0-or-later"}]}}
//   nix path-info --json --recursive --closure-size (Nix 2.8: an array; Nix ≥ 2.19: an object
//   keyed by path, whose values lack "path"):
//     [{"path":"/nix/store/…-bash-5.2.15","narHash":"sha256-…","narSize":7227696,
//       "references":["/nix/store/…-libc6+libgcc-s1", …],"closureSize":13139336,
//       "deriver":"/nix/store/…drv","registrationTime":1795433216,"ultimate":true}, …]
using System.Text.Json.Serialization;

namespace Nixery.Builder.Nix;

internal sealed record PrepareOutput(
    [property: JsonPropertyName("error")] string? Error,
    [property: JsonPropertyName("pkgs")] List<string>? Pkgs,
    [property: JsonPropertyName("drvs")] List<string>? Drvs,
    [property: JsonPropertyName("outs")] List<string>? Outs,
    [property: JsonPropertyName("names")] List<string>? Names,
    [property: JsonPropertyName("licenses")] Dictionary<string, List<LicenseJson>>? Licenses);

internal sealed record LicenseJson(
    [property: JsonPropertyName("spdxId")] string? SpdxId,
    [property: JsonPropertyName("name")] string? Name);

internal sealed record PathInfoJson(
    [property: JsonPropertyName("path")] string? Path,
    [property: JsonPropertyName("narHash")] string? NarHash,
    [property: JsonPropertyName("references")] List<string>? References,
    [property: JsonPropertyName("narSize")] long NarSize,
    [property: JsonPropertyName("closureSize")] long ClosureSize,
    [property: JsonPropertyName("valid")] bool? Valid);

internal sealed record PackageSetJson(
    [property: JsonPropertyName("name")] string? Name,
    [property: JsonPropertyName("linkClosure")] bool? LinkClosure,
    [property: JsonPropertyName("alwaysInclude")] List<string>? AlwaysInclude,
    [property: JsonPropertyName("shell")] List<string>? Shell,
    [property: JsonPropertyName("system")] string? System,
    [property: JsonPropertyName("systems")] List<string>? Systems);

[JsonSerializable(typeof(PrepareOutput))]
[JsonSerializable(typeof(List<PathInfoJson>))]
[JsonSerializable(typeof(Dictionary<string, PathInfoJson>))]
[JsonSerializable(typeof(PackageSetJson))]
[JsonSerializable(typeof(List<string>))]
[JsonSerializable(typeof(List<Nixery.Core.Sources.IndexedPackage>))]
internal sealed partial class NixJsonContext : JsonSerializerContext;
