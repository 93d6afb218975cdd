// The package-source settings: one default from Nixery's single settings, named sources
// from NIXERY_SOURCES, and a sentence naming the setting for each mistake.
using Microsoft.Extensions.Configuration;
using Nixery.Core.Options;
using Nixery.Core.Sources;
using Nixery.TestSupport;

namespace Nixery.Core.Tests.Sources;

public sealed class SourceSettingsTests : IDisposable
{
    private readonly TempDir _folder = new();

    private readonly string _set;

    public SourceSettingsTests()
    {
        _set = _folder.Combine("set");
        PackageSetRepo.WriteSet(_set, "one");
    }

    public void Dispose() => _folder.Dispose();

    private static SourceOptions Bind(Dictionary<string, string?> settings)
    {
        var config = Config(settings);
        Assert.Empty(Settings.Check(config, [typeof(SourceOptions)]));
        return Settings.Bind<SourceOptions>(config);
    }

    private static IReadOnlyList<string> Errors(Dictionary<string, string?> settings)
    {
        var errors = Settings.Check(Config(settings), [typeof(SourceOptions)]);
        Assert.NotEmpty(errors);
        return errors;
    }

    private static IConfiguration Config(Dictionary<string, string?> settings)
    {
        var config = new ConfigurationManager();
        config.AddInMemoryCollection(settings);
        config.Normalise();
        return config;
    }

    [Fact]
    public void EachSingleSettingMakesTheDefaultSource()
    {
        Assert.Equal([new SourceDefinition("default", "path", _set)], Bind(new() { ["NIXERY_PKGS_PATH"] = _set }).Sources);
        Assert.Equal([new SourceDefinition("default", "channel", "nixos-24.05")], Bind(new() { ["NIXERY_CHANNEL"] = "nixos-24.05" }).Sources);
        Assert.Equal(
            [new SourceDefinition("default", "git", "https://github.com/NixOS/nixpkgs")],
            Bind(new() { ["NIXERY_PKGS_REPO"] = "https://github.com/NixOS/nixpkgs" }).Sources);
    }

    [Fact]
    public void NamedSourcesFollowTheDefaultInTheirOrder()
    {
        var options = Bind(new()
        {
            ["NIXERY_PKGS_PATH"] = _set,
            ["NIXERY_SOURCES"] = $"stable=channel:nixos-24.05, dev=git:https://github.com/NixOS/nixpkgs ,local=path:{_set},tar=channel:file://{_set}/default.nix",
        });

        Assert.Equal(
            [
                new SourceDefinition("default", "path", _set),
                new SourceDefinition("stable", "channel", "nixos-24.05"),
                new SourceDefinition("dev", "git", "https://github.com/NixOS/nixpkgs"),
                new SourceDefinition("local", "path", _set),
                new SourceDefinition("tar", "channel", $"file://{_set}/default.nix"),
            ],
            options.Sources);
    }

    [Fact]
    public void WithoutASingleSettingTheFirstNamedSourceIsTheDefault()
    {
        var options = Bind(new() { ["NIXERY_SOURCES"] = $"local=path:{_set},stable=channel:nixos-24.05" });

        Assert.Equal("local", options.Sources[0].Name);
    }

    [Fact]
    public void TwoSingleSettingsAreRefused()
    {
        Assert.Equal(
            ["NIXERY_PKGS_PATH and NIXERY_CHANNEL are all set; set only one of them (the default package source) and put more sources in NIXERY_SOURCES."],
            Errors(new() { ["NIXERY_PKGS_PATH"] = _set, ["NIXERY_CHANNEL"] = "nixos-24.05" }));
    }

    [Fact]
    public void EveryBadNamedSourceIsNamed()
    {
        var errors = Errors(new()
        {
            ["NIXERY_PKGS_PATH"] = _set,
            ["NIXERY_SOURCES"] = "justaname,shell=path:/x,Big=path:/x,odd=svn:/x,gone=path:/nonexistent,dup=channel:nixos-24.05,dup=channel:nixos-23.11,bad=channel:No Such",
        });

        Assert.Equal(
            [
                "NIXERY_SOURCES has 'justaname'; each entry must be name=kind:location, e.g. stable=channel:nixos-24.05 (kinds: path, git, channel).",
                "NIXERY_SOURCES names a source 'shell'; a name must be lower-case letters and digits (with . _ - between them) and not one of shell, arm64, nonroot, default.",
                "NIXERY_SOURCES names a source 'Big'; a name must be lower-case letters and digits (with . _ - between them) and not one of shell, arm64, nonroot, default.",
                "NIXERY_SOURCES gives source 'odd' the kind 'svn'; it must be path, git or channel.",
                "NIXERY_SOURCES (gone) is '/nonexistent', which has no default.nix; it must name a package set folder (run scripts/setup to make .state/pkgset).",
                "NIXERY_SOURCES names 'dup' twice; each source needs its own name.",
                "NIXERY_SOURCES (bad) is 'No Such'; a channel must be a channel name such as nixos-24.05 or nixpkgs-unstable, or a tarball URL (file://, https://).",
            ],
            errors);
    }

    [Fact]
    public void ALocalGitRepositoryThatDoesNotExistIsNamed()
    {
        Assert.Equal(
            ["NIXERY_PKGS_REPO is '/nonexistent/repo', which is neither an http(s)/ssh/git URL nor an existing folder; it must name a git repository."],
            Errors(new() { ["NIXERY_PKGS_REPO"] = "/nonexistent/repo" }));
    }

    [Fact]
    public void AMissingFileTarballAndAnOddSchemeAreNamed()
    {
        Assert.Equal(
            [
                "NIXERY_CHANNEL is 'file:///nonexistent.tar.gz', which does not exist; a channel must be a channel name (nixos-24.05) or a tarball URL.",
            ],
            Errors(new() { ["NIXERY_CHANNEL"] = "file:///nonexistent.tar.gz" }));
        Assert.Equal(
            ["NIXERY_CHANNEL is 'ftp://host/x.tar.gz'; a channel URL must be file://, http:// or https://."],
            Errors(new() { ["NIXERY_CHANNEL"] = "ftp://host/x.tar.gz" }));
    }

    [Fact]
    public void RevisionCacheHasADefaultAndBounds()
    {
        var options = Bind(new() { ["NIXERY_PKGS_PATH"] = _set });

        Assert.Equal(TimeSpan.FromSeconds(60), options.RevisionCacheFor);
        Assert.Equal(
            ["NIXERY_REVISION_CACHE is '-1'; it must be a whole number of seconds from 0 to 86400."],
            Errors(new() { ["NIXERY_PKGS_PATH"] = _set, ["NIXERY_REVISION_CACHE"] = "-1" }));
    }
}
