// tags/list and _catalog (distribution-spec "Listing Tags"): the tags a name answers to, the
// names built, both in ordinal order and paginated with n and last.
using System.Net;
using System.Text.Json;
using Nixery.Core.Builds;
using Nixery.Core.Names;
using Nixery.Core.Sources;

namespace Nixery.Functions.Tests;

public abstract class ListingTests(IRegistryUnderTest fixture)
{
    [Fact]
    public async Task TagsOfANameFromAFolderSourceAreLatest()
    {
        using var response = await fixture.Client.GetAsync("/v2/shell/git/tags/list");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        Assert.Equal("{\"name\":\"shell/git\",\"tags\":[\"latest\"]}", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("Link"));
    }

    [Theory]
    [InlineData("?n=0", "[]")]
    [InlineData("?n=1", "[\"latest\"]")]
    [InlineData("?n=5", "[\"latest\"]")]
    [InlineData("?last=latest", "[]")]
    [InlineData("?last=a", "[\"latest\"]")]
    [InlineData("?n=1&last=zzz", "[]")]
    public async Task TagsArePaginatedWithNAndLast(string query, string tags)
    {
        using var response = await fixture.Client.GetAsync($"/v2/git/tags/list{query}");

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal($"{{\"name\":\"git\",\"tags\":{tags}}}", await response.Content.ReadAsStringAsync());
        Assert.False(response.Headers.Contains("Link"));
    }

    [Theory]
    [InlineData("-1")]
    [InlineData("ten")]
    [InlineData("99999999999")]
    public async Task ABadNIsPaginationNumberInvalid(string n)
    {
        using var response = await fixture.Client.GetAsync($"/v2/git/tags/list?n={n}");

        await ErrorAssert.HasErrorAsync(response, HttpStatusCode.BadRequest, "PAGINATION_NUMBER_INVALID");
    }

    [Fact]
    public async Task TagsOfANameWhosePackagesABuildFoundMissingAreNameUnknown()
    {
        var (selection, resolved) = await fixture.Sources.ResolveAsync("missingpkg/shell", SourceCatalog.LatestTag, CancellationToken.None);
        var key = ImageKeys.For(ImageRequest.FromName(selection.Packages), resolved);
        await fixture.Ledger.FailAsync(key, new BuildFailure("missingpkg/shell", "packages not found: missingpkg", ["missingpkg"]), CancellationToken.None);

        using var response = await fixture.Client.GetAsync("/v2/missingpkg/shell/tags/list");

        var message = await ErrorAssert.HasErrorAsync(response, HttpStatusCode.NotFound, "NAME_UNKNOWN");
        Assert.Equal("repository missingpkg/shell is not known here: packages not found: missingpkg", message);
    }

    [Fact]
    public async Task HeadOfTagsHasTheHeadersAndNoBody()
    {
        using var response = await fixture.Client.SendAsync(new HttpRequestMessage(HttpMethod.Head, "/v2/git/tags/list"));

        Assert.Equal(HttpStatusCode.OK, response.StatusCode);
        Assert.Equal("{\"name\":\"git\",\"tags\":[\"latest\"]}".Length, response.Content.Headers.ContentLength);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    [Fact]
    public async Task CatalogListsTheBuiltNamesInOrderAndPagesWithALink()
    {
        foreach (var name in new[] { "shell/git", "curl", "shell", "python3.11/shell" })
        {
            await fixture.Store.PutCatalogEntryAsync(name, CancellationToken.None);
        }

        using var all = await fixture.Client.GetAsync("/v2/_catalog");
        using var first = await fixture.Client.GetAsync("/v2/_catalog?n=2");
        using var rest = await fixture.Client.GetAsync("/v2/_catalog?n=2&last=python3.11/shell");

        Assert.Equal("{\"repositories\":[\"curl\",\"python3.11/shell\",\"shell\",\"shell/git\"]}", await all.Content.ReadAsStringAsync());
        Assert.Equal("{\"repositories\":[\"curl\",\"python3.11/shell\"]}", await first.Content.ReadAsStringAsync());
        Assert.Equal(["</v2/_catalog?n=2&last=python3.11%2Fshell>; rel=\"next\""], first.Headers.GetValues("Link"));
        Assert.Equal("{\"repositories\":[\"shell\",\"shell/git\"]}", await rest.Content.ReadAsStringAsync());
        Assert.False(rest.Headers.Contains("Link"));
        using var document = JsonDocument.Parse(await all.Content.ReadAsStringAsync());
        Assert.Equal(JsonValueKind.Array, document.RootElement.GetProperty("repositories").ValueKind);
    }
}

[Collection(RegistryCollection.Name)]
public sealed class ListingTestsOnEmbeddedDefault(RegistryFixture fixture) : ListingTests(fixture);

[Collection(FunctionsHostCollection.Name)]
public sealed class ListingTestsOnFunctionsHost(FunctionsHostFixture fixture) : ListingTests(fixture);
