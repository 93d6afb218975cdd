// What a test of the HTTP side needs from a running registry, whichever host runs it: the
// embedded default (RegistryFixture) or the HTTP function app under the Functions host
// emulator (FunctionsHostFixture). Tests written against this run on both, so the HTTP
// function app shows every behaviour the embedded default has.
using Nixery.Core.Builds;
using Nixery.Core.Manifests;
using Nixery.Core.Sources;
using Nixery.Core.Storage;

namespace Nixery.Functions.Tests;

public interface IRegistryUnderTest
{
    HttpClient Client { get; }

    Uri BaseAddress { get; }

    /// <summary>The registry's storage, for a test to put records and blobs in place.</summary>
    RegistryStore Store { get; }

    /// <summary>The registry's build ledger, for a test to move a build to a state.</summary>
    BuildLedger Ledger { get; }

    /// <summary>The package sources as the registry resolves them (same settings, same revisions).</summary>
    SourceCatalog Sources { get; }

    /// <summary>The ten bytes of <see cref="RegistryFixture.TenBytesText"/>, stored as a blob.</summary>
    Digest TenBytesDigest { get; }

    /// <summary><see cref="RegistryFixture.ManifestJson"/>, stored as a blob.</summary>
    Digest ManifestDigest { get; }
}
