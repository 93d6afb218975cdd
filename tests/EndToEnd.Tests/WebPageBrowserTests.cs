// The web page in a real browser (issue 15, done-when 1): Debian's Chromium, headless, driven
// by Playwright for .NET with the system browser (ExecutablePath; Playwright downloads no
// browser), against the embedded default with real Nix and the offline package set. One image
// (shell/curl) is built first, so that the picture has layers shared with another image; the
// page is opened before the image under test is built, a cold pull of it runs with skopeo in the background (which
// meets 429 and retries by itself), and the test follows the build on the page as the live
// updates (Server-Sent Events) change the list: the row appears, building, then done with a
// link to the image's layer picture, which the test opens. Screenshots are kept under the
// test output's artifacts/screenshots/ (the path is printed).
using System.Text.Json;
using Microsoft.Playwright;
using Nixery.TestSupport;
using Xunit.Abstractions;

namespace Nixery.EndToEnd.Tests;

public sealed class WebPageBrowserTests(ITestOutputHelper output) : IAsyncLifetime
{
    private const string Chromium = "/usr/bin/chromium";

    /// <summary>Pulled as shell/git; the page names an image by its sorted components.</summary>
    private const string Image = "git/shell";

    private static readonly string[] ChromiumArgs =
    [
        "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
    ];

    /// <summary>A cold build on two shared cores can take minutes; every wait is bounded by this.</summary>
    private const float Patience = 10 * 60 * 1000;

    private readonly TempDir _folder = new("nixery-e2e-web");

    private RegistryInstance _registry = null!;

    public async Task InitializeAsync() => _registry = await RegistryInstance.StartAsync(_folder.Combine("storage"));

    public async Task DisposeAsync()
    {
        await _registry.DisposeAsync();
        _folder.Dispose();
    }

    [Fact]
    public async Task ThePageFollowsAColdPullToDoneThroughLiveUpdatesAndDrawsTheImagesLayers()
    {
        var other = _folder.Combine("oci-curl");
        (await Clients.SkopeoCopyAsync(_registry.HostPort, "shell/curl:latest", other)).EnsureSuccess("skopeo copy shell/curl");
        var screenshots = Directory.CreateDirectory(Path.Combine(AppContext.BaseDirectory, "artifacts", "screenshots")).FullName;
        output.WriteLine($"screenshots: {screenshots}");
        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new() { ExecutablePath = Chromium, Headless = true, Args = ChromiumArgs });
        var page = await browser.NewPageAsync(new() { ViewportSize = new() { Width = 1100, Height = 1000 } });
        var errors = new List<string>();
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                errors.Add(message.Text);
            }
        };

        await page.GotoAsync(_registry.BaseAddress.ToString());
        Assert.Equal("Nixery on Azure", await page.TitleAsync());
        // The row of the image under test is made by the live updates, not the page's snapshot.
        Assert.Equal(0, await page.Locator($"#builds li[data-image='{Image}']").CountAsync());
        // Keyboard: the first Tab lands on the skip link, and the search field is reached by Tab alone.
        await page.Keyboard.PressAsync("Tab");
        Assert.Equal("Skip to content", await page.EvaluateAsync<string>("() => document.activeElement.textContent"));
        var tabs = 1;
        while (await page.EvaluateAsync<string>("() => document.activeElement.id") != "q")
        {
            Assert.True(++tabs <= 10, "the search field is not among the first ten stops of Tab");
            await page.Keyboard.PressAsync("Tab");
        }

        // The script's EventSource is open: from here on, the list follows the ledger.
        await page.Locator("#live").Filter(new() { HasTextRegex = new("^Live: ") }).WaitForAsync(new() { Timeout = Patience });
        // Every state the live updates give the row, as the DOM shows it.
        await page.EvaluateAsync(
            """
            () => {
              window.seen = [];
              const record = () => {
                for (const row of document.querySelectorAll('#builds li')) {
                  const entry = [row.getAttribute('data-image') || '', row.getAttribute('data-state'), row.getAttribute('data-layers-ready') || '', row.getAttribute('data-layers-total') || ''];
                  const last = window.seen[window.seen.length - 1];
                  if (!last || last.join('|') !== entry.join('|')) { window.seen.push(entry); }
                }
              };
              new MutationObserver(record).observe(document.getElementById('builds'), { subtree: true, childList: true, attributes: true });
            }
            """);

        var oci = _folder.Combine("oci");
        var pull = Clients.SkopeoCopyAsync(_registry.HostPort, "shell/git:latest", oci);

        var row = page.Locator($"#builds li[data-image='{Image}']");
        await page.Locator($"#builds li[data-image='{Image}'][data-state='building']").WaitForAsync(new() { Timeout = Patience });
        await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, "web-page-building.png"), FullPage = true });

        await page.Locator($"#builds li[data-image='{Image}'][data-state='done']").WaitForAsync(new() { Timeout = Patience });
        await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, "web-page-done.png"), FullPage = true });
        (await pull).EnsureSuccess("skopeo copy shell/git");

        var seen = JsonSerializer.Deserialize<string[][]>(await page.EvaluateAsync<string>("() => JSON.stringify(window.seen)"))!
            .Where(s => s[0] == Image).ToList();
        output.WriteLine("states the page showed: " + string.Join(" → ", seen.Select(s => $"{s[1]} {s[2]}/{s[3]}")));
        var states = seen.Select(s => s[1]).Distinct().ToList();
        Assert.Equal("building", states[0]);
        Assert.Equal("done", states[^1]);
        // Packing progress, when the page saw some, only ever went forward.
        var ready = seen.Where(s => s[1] == "building" && s[2].Length > 0).Select(s => int.Parse(s[2], System.Globalization.CultureInfo.InvariantCulture)).ToList();
        Assert.Equal(ready.Order(), ready);

        await row.Locator("a.picture").ClickAsync();
        await page.WaitForURLAsync("**/images/git/shell");
        var picture = page.Locator("svg#layers[role='img']");
        await picture.WaitForAsync();
        Assert.Equal("Layers of git/shell", await picture.Locator("title#layers-title").TextContentAsync());
        Assert.Equal(Clients.OciLayerDigests(oci), await picture.Locator("g.layer").EvaluateAllAsync<string[]>("gs => gs.map(g => g.getAttribute('data-digest'))"));
        Assert.Equal($"docker pull {_registry.HostPort}/git/shell", await page.Locator("#pull").TextContentAsync());
        // Layers of the shell are in curl/shell too (the picture counts other images' manifests).
        var sharedWith = await picture.Locator("g.layer").EvaluateAllAsync<int[]>("gs => gs.map(g => Number(g.getAttribute('data-shared-with')))");
        Assert.Contains(sharedWith, n => n >= 1);
        await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, "image-layers.png") });
        await page.ScreenshotAsync(new() { Path = Path.Combine(screenshots, "image-layers-full.png"), FullPage = true });

        Assert.True(errors.Count == 0, "the browser's console has errors: " + string.Join("; ", errors));
    }
}
