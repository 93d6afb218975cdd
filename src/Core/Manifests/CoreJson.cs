// Source-generated JSON for every document Core reads or writes (STYLE.md §9). Compact
// output: the bytes of a manifest or config are hashed, so no whitespace and a fixed order.
using System.Text.Json.Serialization;
using Nixery.Core.Builds;
using Nixery.Core.Errors;
using Nixery.Core.Names;
using Nixery.Core.Queue;
using Nixery.Core.Sources;
using Nixery.Core.Storage;

namespace Nixery.Core.Manifests;

[JsonSourceGenerationOptions(WriteIndented = false, DefaultIgnoreCondition = JsonIgnoreCondition.Never)]
[JsonSerializable(typeof(ImageManifest))]
[JsonSerializable(typeof(ImageIndex))]
[JsonSerializable(typeof(ImageConfig))]
[JsonSerializable(typeof(ImageRecord))]
[JsonSerializable(typeof(ManifestVariant))]
[JsonSerializable(typeof(LayerRecord))]
[JsonSerializable(typeof(PullRecord))]
[JsonSerializable(typeof(BuildStatus))]
[JsonSerializable(typeof(LeaseRecord))]
[JsonSerializable(typeof(BuildJob))]
[JsonSerializable(typeof(ErrorBody))]
[JsonSerializable(typeof(ImageRequest))]
[JsonSerializable(typeof(ReferrersIndex))]
[JsonSerializable(typeof(PackageIndex))]
public sealed partial class CoreJson : JsonSerializerContext;
