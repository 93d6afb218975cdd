// The README's settings table is checked against the options classes (issue 11): every setting
// an app reads has a row, a default the README states as a literal is the class's default,
// and every row is a setting some app or its Functions host reads.
using System.Globalization;
using System.Text.RegularExpressions;
using Microsoft.Extensions.Configuration;
using Nixery.Builder;
using Nixery.Core.Azure;
using Nixery.Core.Options;
using Nixery.Embedded;
using Nixery.Functions.Hosting;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Options;

public sealed partial class SettingsDocumentationTests
{
    /// <summary>Rows for settings the Functions host reads, not the apps' options classes.</summary>
    private static readonly string[] HostSettings = ["AzureWebJobsStorage", "NixeryStorage"];

    /// <summary>Every options class of every app: the HTTP function app, the build function app
    /// and the embedded default, each as its Program checks them, with Azure storage chosen.</summary>
    private static IReadOnlyList<Type> AllOptionTypes()
    {
        var azure = new ConfigurationBuilder().AddInMemoryCollection([new("NIXERY_STORAGE_BACKEND", "azure")]).Build();
        return [.. RegistryHosting.SettingTypes(azure)
            .Append(typeof(AzureQueueOptions))
            .Concat(StorageRegistration.StorageSettings(azure))
            .Concat(BuilderServiceCollectionExtensions.SettingTypes)
            .Append(typeof(EmbeddedOptions))
            .Distinct()];
    }

    private static Dictionary<string, string> ReadmeRows()
    {
        var readme = File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"));
        var section = readme[readme.IndexOf("## Configuration", StringComparison.Ordinal)..];
        section = section[..section.IndexOf("\n## ", 3, StringComparison.Ordinal)];
        return SettingRow().Matches(section).ToDictionary(m => m.Groups[1].Value, m => m.Groups[2].Value.Trim(), StringComparer.Ordinal);
    }

    [Fact]
    public void EverySettingOfTheOptionsClassesHasAReadmeRowWithItsDefault()
    {
        var rows = ReadmeRows();
        var problems = new List<string>();
        foreach (var type in AllOptionTypes())
        {
            var defaults = Activator.CreateInstance(type)!;
            foreach (var (property, key) in Settings.SettingsOf(type))
            {
                if (!rows.TryGetValue(key, out var documented))
                {
                    problems.Add($"README.md: the settings table has no row for {key} ({type.Name}.{property.Name}).");
                    continue;
                }

                var literal = LiteralDefault().Match(documented);
                var actual = Convert.ToString(property.GetValue(defaults), CultureInfo.InvariantCulture);
                if (literal.Success && literal.Groups[1].Value != actual)
                {
                    problems.Add($"README.md: {key} is documented with the default `{literal.Groups[1].Value}`; {type.Name}.{property.Name} defaults to '{actual}'.");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void EveryReadmeRowIsASettingSomethingReads()
    {
        var read = AllOptionTypes().SelectMany(t => Settings.SettingsOf(t).Select(s => s.Key)).Concat(HostSettings).Concat(TelemetryRegistration.SettingKeys).ToHashSet(StringComparer.Ordinal);

        var unread = ReadmeRows().Keys.Where(k => !read.Contains(k)).ToList();

        Assert.True(unread.Count == 0, $"README.md documents settings nothing reads: {string.Join(", ", unread)}");
    }

    [GeneratedRegex(@"^\| `([A-Za-z_]+)` \| ([^|]*) \|", RegexOptions.Multiline)]
    private static partial Regex SettingRow();

    /// <summary>A default written as one code literal and nothing else, e.g. `8080`.</summary>
    [GeneratedRegex(@"^`([^`]+)`$")]
    private static partial Regex LiteralDefault();
}
