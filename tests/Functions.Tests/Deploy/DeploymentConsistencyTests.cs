// The deployment and the app agree (issue 6, "done when" 1): infra/*.bicep, evaluated by
// `bicep snapshot` (InfraSnapshot), host.json, the function definitions in deploy/functions
// and the app's options must name the same settings, containers, queues, routes and ports.
// Every failure names the file and the value that disagrees.
using System.Net;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Patterns;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Nixery.Core.Options;
using Nixery.Core.Queue.Azure;
using Nixery.Core.Storage.Azure;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests.Deploy;

public sealed partial class DeploymentConsistencyTests(InfraSnapshot infra) : IClassFixture<InfraSnapshot>
{
    private const string SiteType = "Microsoft.Web/sites";
    private const string ContainerAppType = "Microsoft.App/containerApps";
    private const string StorageType = "Microsoft.Storage/storageAccounts";

    private const string DataAccount = InfraSnapshot.PrefixWithoutHyphens + "data";
    private const string HostAccount = InfraSnapshot.PrefixWithoutHyphens + "host";
    private const string FunctionApp = InfraSnapshot.NamePrefix;
    private const string Worker = InfraSnapshot.NamePrefix + "-worker";
    private const string HttpIdentity = InfraSnapshot.NamePrefix + "-http-id";
    private const string WorkerIdentity = InfraSnapshot.NamePrefix + "-worker-id";
    private const string ScalerIdentity = InfraSnapshot.NamePrefix + "-scaler-id";

    /// <summary>Settings the Azure Functions host reads, not the app: identity-based host
    /// storage, telemetry, and no host home page at "/" (the app's landing page is there).</summary>
    private static readonly HashSet<string> HostSettings = new(StringComparer.Ordinal)
    {
        "AzureWebJobsStorage__accountName",
        "AzureWebJobsStorage__credential",
        "AzureWebJobsStorage__clientId",
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "AzureWebJobsDisableHomepage",
    };

    /// <summary>Built-in role definition ids: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles</summary>
    private static readonly Dictionary<string, string> RoleNames = new(StringComparer.Ordinal)
    {
        ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"] = "Storage Blob Data Contributor",
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["19e7f393-937e-4f77-808e-94535e297925"] = "Storage Queue Data Reader",
        ["7f951dda-4ed3-4680-a7ca-43fe172d538d"] = "AcrPull",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
    };

    private IReadOnlyDictionary<string, string> FunctionAppSettings =>
        InfraSnapshot.NameValues(InfraSnapshot.At(infra.Single(SiteType, FunctionApp), "properties.siteConfig.appSettings"));

    private IReadOnlyDictionary<string, string> WorkerSettings =>
        InfraSnapshot.NameValues(InfraSnapshot.At(WorkerContainer, "env"));

    private JsonElement WorkerContainer =>
        InfraSnapshot.At(infra.Single(ContainerAppType, Worker), "properties.template.containers").EnumerateArray().Single();

    [Fact]
    public async Task InfraCompilesWithoutWarnings()
    {
        var result = await Bicep.RunAsync("build", Path.Combine(InfraSnapshot.InfraDir, "main.bicep"), "--stdout");

        Assert.True(result.ExitCode == 0 && result.Stderr.Trim().Length == 0, $"infra/main.bicep: bicep build exited {result.ExitCode}:\n{result.Stderr}");
    }

    [Fact]
    public void EverySettingTheInfraSetsIsOneTheAppReadsAndTheReadmeDocuments()
    {
        var appReads = AppSettingNames();
        var documented = ReadmeSettingNames();
        var problems = new List<string>();
        foreach (var (resource, settings, hostAllowed) in new[]
        {
            ($"the Function app's app settings ({SiteType} '{FunctionApp}')", FunctionAppSettings, true),
            ($"the worker's environment ({ContainerAppType} '{Worker}')", WorkerSettings, false),
        })
        {
            foreach (var name in settings.Keys)
            {
                if (hostAllowed && HostSettings.Contains(name))
                {
                    continue;
                }

                if (!appReads.Contains(name))
                {
                    problems.Add($"infra/*.bicep: {resource} set {name}, which no options class reads (src/Core/Options, AzureStorageOptions, AzureQueueOptions).");
                }
                else if (!documented.Contains(name))
                {
                    problems.Add($"README.md: the configuration table has no row for {name}, which {resource} set.");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems));
    }

    [Fact]
    public void TheAppAcceptsTheSettingsTheInfraGivesIt()
    {
        foreach (var (resource, settings) in new[] { ("Function app", FunctionAppSettings), ("worker", WorkerSettings) })
        {
            var config = new ConfigurationBuilder().AddInMemoryCollection(StandIns(resource, settings)).Build();

            var part = resource == "worker" ? RegistryPart.BuildFunctions : RegistryPart.HttpFunctions;
            var accepted = RegistryOptions.TryFromConfiguration(config, part, out var options, out var error);

            Assert.True(accepted, $"infra/*.bicep: the {resource}'s settings do not start the app: {error}");
            Assert.Equal("azure", options!.StorageBackend);
        }
    }

    [Fact]
    public void ContainerAndQueuesAreTheAppDefaultsAndTheSettingsNameThem()
    {
        var containers = infra.OfType($"{StorageType}/blobServices/containers").Select(Name).Order(StringComparer.Ordinal);
        var queues = infra.OfType($"{StorageType}/queueServices/queues").Select(Name).Order(StringComparer.Ordinal);

        AssertSame(
            "infra/modules/storage.bicep, host-storage.bicep: blob containers",
            [$"{DataAccount}/default/{AzureStorageOptions.DefaultContainer}", $"{HostAccount}/default/function-package"],
            containers);
        AssertSame(
            "infra/modules/storage.bicep: queues",
            [$"{DataAccount}/default/{AzureQueueOptions.DefaultQueueName}", $"{DataAccount}/default/{AzureQueueOptions.DefaultQueueName}{AzureQueueOptions.PoisonSuffix}"],
            queues);
        foreach (var (resource, settings) in new[] { ("Function app", FunctionAppSettings), ("worker", WorkerSettings) })
        {
            AssertSetting(resource, settings, "NIXERY_STORAGE_CONTAINER", AzureStorageOptions.DefaultContainer);
            AssertSetting(resource, settings, "NIXERY_QUEUE_NAME", AzureQueueOptions.DefaultQueueName);
            AssertSetting(resource, settings, "NIXERY_STORAGE_BACKEND", "azure");
            AssertSetting(resource, settings, "NIXERY_QUEUE_BACKEND", "azure");
            AssertSetting(resource, settings, "NIXERY_CHANNEL", InfraSnapshot.PackageSource);
            Assert.True(
                settings["AZURE_STORAGE_BLOB_URL"].Contains($"'https://{{0}}.blob.{{1}}', '{DataAccount}'", StringComparison.Ordinal),
                $"infra/main.bicep: the {resource}'s AZURE_STORAGE_BLOB_URL is {settings["AZURE_STORAGE_BLOB_URL"]}, not the blob endpoint of {DataAccount}");
            Assert.True(
                settings["AZURE_STORAGE_QUEUE_URL"].Contains($"'https://{{0}}.queue.{{1}}', '{DataAccount}'", StringComparison.Ordinal),
                $"infra/main.bicep: the {resource}'s AZURE_STORAGE_QUEUE_URL is {settings["AZURE_STORAGE_QUEUE_URL"]}, not the queue endpoint of {DataAccount}");
        }
    }

    [Fact]
    public void WorkerScalesZeroToMaxWorkersOnTheAppsQueueAndServesNothing()
    {
        var app = infra.Single(ContainerAppType, Worker);
        var scale = InfraSnapshot.At(app, "properties.template.scale");
        var rule = scale.GetProperty("rules").EnumerateArray().Single();

        AssertValue("infra/modules/worker.bicep: minReplicas", 0, scale.GetProperty("minReplicas").GetInt32());
        AssertValue("infra/modules/worker.bicep: maxReplicas (main.bicep maxWorkers)", InfraSnapshot.MaxWorkers, scale.GetProperty("maxReplicas").GetInt32());
        AssertValue("infra/modules/worker.bicep: the scale rule's type", "azure-queue", InfraSnapshot.At(rule, "custom.type").GetString());
        var metadata = InfraSnapshot.At(rule, "custom.metadata");
        Assert.True(
            metadata.GetProperty("queueName").GetString() == AzureQueueOptions.DefaultQueueName,
            $"infra/modules/worker.bicep: the KEDA rule watches queue '{metadata.GetProperty("queueName")}', the app enqueues to '{AzureQueueOptions.DefaultQueueName}' (NIXERY_QUEUE_NAME)");
        AssertValue("infra/modules/worker.bicep: the KEDA rule's accountName", DataAccount, metadata.GetProperty("accountName").GetString());
        AssertValue("infra/modules/worker.bicep: the KEDA rule's queueLength (one job per replica, NIXERY_WORKERS=1)", "1", metadata.GetProperty("queueLength").GetString());
        AssertValue("infra/modules/worker.bicep: the KEDA rule's identity", InfraSnapshot.ResourceId("Microsoft.ManagedIdentity/userAssignedIdentities", ScalerIdentity), InfraSnapshot.At(rule, "custom.identity").GetString());
        Assert.False(
            InfraSnapshot.At(app, "properties.configuration").TryGetProperty("ingress", out _),
            "infra/modules/worker.bicep: the worker has an ingress; it takes jobs from the queue and must listen on no port");
        AssertSetting("worker", WorkerSettings, "NIXERY_WORKERS", "1");
        AssertValue("infra/modules/worker.bicep: the worker image (main.bicep workerImage)", InfraSnapshot.WorkerImage, WorkerContainer.GetProperty("image").GetString());
    }

    [Fact]
    public void FunctionAppRunsTheCustomHandlerOnTheHostsPortWithNoWorker()
    {
        var site = infra.Single(SiteType, FunctionApp);
        var plan = infra.Single("Microsoft.Web/serverfarms", InfraSnapshot.NamePrefix + "-plan");
        var settings = FunctionAppSettings;

        AssertValue("infra/modules/functionapp.bicep: functionAppConfig.runtime.name", "custom", InfraSnapshot.At(site, "properties.functionAppConfig.runtime.name").GetString());
        AssertValue("infra/modules/functionapp.bicep: the Function app's kind", "functionapp,linux", site.GetProperty("kind").GetString());
        AssertValue("infra/modules/functionapp.bicep: the plan's SKU", "FC1", InfraSnapshot.At(plan, "sku.name").GetString());
        Assert.True(InfraSnapshot.At(plan, "properties.reserved").GetBoolean(), "infra/modules/functionapp.bicep: the plan is not Linux (reserved: true)");
        foreach (var name in new[] { "PORT", "FUNCTIONS_CUSTOMHANDLER_PORT", "ASPNETCORE_URLS", "urls", "FUNCTIONS_WORKER_RUNTIME" })
        {
            // The host assigns the handler's port; Flex Consumption takes the runtime from functionAppConfig.
            Assert.False(settings.ContainsKey(name), $"infra/modules/functionapp.bicep: the Function app sets {name} = {settings.GetValueOrDefault(name)}");
        }

        AssertSetting("Function app", settings, "NIXERY_WORKERS", "0");
        AssertValue(
            "infra/modules/functionapp.bicep: the package container (functionAppConfig.deployment.storage.value)",
            $"[format('https://{{0}}.blob.{{1}}/{{2}}', '{HostAccount}', environment().suffixes.storage, 'function-package')]",
            InfraSnapshot.At(site, "properties.functionAppConfig.deployment.storage.value").GetString());
    }

    [Fact]
    public void EachCallerSignsInWithItsOwnIdentityAndHoldsOnlyItsRoles()
    {
        var grants = infra.OfType("Microsoft.Authorization/roleAssignments").Select(Grant).Order(StringComparer.Ordinal);

        AssertSame(
            "infra/modules: role assignments (role | identity | scope)",
            new[]
            {
                $"AcrPull | {WorkerIdentity} | {InfraSnapshot.PrefixWithoutHyphens}acr",
                $"Monitoring Metrics Publisher | {HttpIdentity} | {InfraSnapshot.NamePrefix}-insights",
                $"Storage Blob Data Contributor | {HttpIdentity} | {DataAccount}",
                $"Storage Blob Data Contributor | {WorkerIdentity} | {DataAccount}",
                $"Storage Blob Data Owner | {HttpIdentity} | {HostAccount}",
                $"Storage Queue Data Contributor | {HttpIdentity} | {DataAccount}",
                $"Storage Queue Data Contributor | {WorkerIdentity} | {DataAccount}",
                $"Storage Queue Data Reader | {ScalerIdentity} | {DataAccount}",
            }.Order(StringComparer.Ordinal),
            grants);
        Assert.Contains($"userAssignedIdentities/{HttpIdentity}'", FunctionAppSettings["AZURE_CLIENT_ID"], StringComparison.Ordinal);
        Assert.Contains($"userAssignedIdentities/{HttpIdentity}'", FunctionAppSettings["AzureWebJobsStorage__clientId"], StringComparison.Ordinal);
        AssertValue("infra/modules/functionapp.bicep: AzureWebJobsStorage__accountName", HostAccount, FunctionAppSettings["AzureWebJobsStorage__accountName"]);
        Assert.Contains($"userAssignedIdentities/{WorkerIdentity}'", WorkerSettings["AZURE_CLIENT_ID"], StringComparison.Ordinal);
        foreach (var account in infra.OfType(StorageType))
        {
            Assert.True(
                !InfraSnapshot.At(account, "properties.allowSharedKeyAccess").GetBoolean(),
                $"infra/modules: storage account '{Name(account)}' allows shared-key access");
        }
    }

    [Fact]
    public void HostJsonStartsThePublishedAppAndForwardsEveryRequestWithNoRoutePrefix()
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "host.json")));
        var handler = hostJson.RootElement.GetProperty("customHandler");
        var assemblyName = AssemblyNameRegex().Match(File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Functions", "Nixery.Functions.csproj"))).Groups[1].Value;

        Assert.True(handler.GetProperty("enableForwardingHttpRequest").GetBoolean(), "host.json: customHandler.enableForwardingHttpRequest is not true");
        AssertValue("host.json: extensions.http.routePrefix", "", InfraSnapshot.At(hostJson.RootElement, "extensions.http.routePrefix").GetString());
        AssertValue("host.json: customHandler.description.defaultExecutablePath (src/Functions AssemblyName, the app host scripts/publish makes)", assemblyName, InfraSnapshot.At(handler, "description.defaultExecutablePath").GetString());
        AssertValue("host.json: customHandler.description.arguments", 0, InfraSnapshot.At(handler, "description.arguments").GetArrayLength());
    }

    [Fact]
    public void FunctionDefinitionsAreAnonymousHttpTriggersForReadsAndWrites()
    {
        var functions = FunctionDefinition.LoadAll(FunctionsDir);

        var all = "GET, HEAD, POST, PUT, PATCH, DELETE";
        AssertSame(
            "deploy/functions/*/function.json",
            [
                $"failures: route failures, methods {all}, auth anonymous, bindings httpTrigger/in, http/out",
                $"landing: route {{ignored:maxlength(0)?}}, methods {all}, auth anonymous, bindings httpTrigger/in, http/out",
                $"registry: route v2/{{*path}}, methods {all}, auth anonymous, bindings httpTrigger/in, http/out",
                $"registry-base: route v2, methods {all}, auth anonymous, bindings httpTrigger/in, http/out",
            ],
            functions.Select(f => $"{f.Name}: route {f.Route}, methods {string.Join(", ", f.Methods)}, auth {f.AuthLevel}, bindings {string.Join(", ", f.BindingTypes)}"));
    }

    /// <summary>Every route the app maps, with every method it maps it for, reaches the app
    /// through the function definitions: each is requested through FunctionsHostShim, which
    /// routes as the Functions host does.</summary>
    [Fact]
    public async Task FunctionRoutesReachEveryRouteAndMethodOfTheApp()
    {
        using var folder = new TempDir("nixery-function-routes");
        await using var app = await RegistryInstance.StartAsync(
            folder.Combine("storage"), new Dictionary<string, string?> { ["NIXERY_WORKERS"] = "0", ["NIXERY_BUILD_WAIT"] = "0" });
        await using var shim = await FunctionsHostShim.StartAsync(Path.Combine(RepoPaths.Root, "host.json"), FunctionsDir, app.BaseAddress);
        using var client = new HttpClient { BaseAddress = shim.BaseAddress };
        var endpoints = app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>().ToList();
        Assert.NotEmpty(endpoints);

        var unrouted = new List<string>();
        foreach (var endpoint in endpoints)
        {
            var methods = endpoint.Metadata.GetMetadata<HttpMethodMetadata>()?.HttpMethods ?? [HttpMethods.Get];
            foreach (var path in SamplePaths(endpoint.RoutePattern))
            {
                foreach (var method in methods)
                {
                    using var response = await client.SendAsync(new HttpRequestMessage(new HttpMethod(method), path));
                    if (!response.Headers.Contains(FunctionsHostShim.RoutedByHeader))
                    {
                        unrouted.Add($"deploy/functions: no function routes {method} {path} (the app's route {endpoint.RoutePattern.RawText}); the host answered {(int)response.StatusCode}");
                    }
                }
            }
        }

        Assert.True(unrouted.Count == 0, string.Join("\n", unrouted));
        using var landing = await client.GetAsync("/");
        Assert.Equal(HttpStatusCode.OK, landing.StatusCode);
        Assert.Equal("landing", landing.Headers.GetValues(FunctionsHostShim.RoutedByHeader).Single());
    }

    private static string FunctionsDir => Path.Combine(RepoPaths.Root, "deploy", "functions");

    /// <summary>Paths a route pattern matches: each parameter filled in; a catch-all also
    /// empty, with and without the slash before it ("/v2" and "/v2/").</summary>
    private static IEnumerable<string> SamplePaths(RoutePattern pattern)
    {
        var paths = new List<string> { "" };
        foreach (var segment in pattern.PathSegments)
        {
            var catchAll = segment.Parts.OfType<RoutePatternParameterPart>().Any(p => p.IsCatchAll);
            var text = string.Concat(segment.Parts.Select(part => part switch
            {
                RoutePatternLiteralPart literal => literal.Content,
                RoutePatternSeparatorPart separator => separator.Content,
                RoutePatternParameterPart { IsCatchAll: true } => "shell/blobs/sha256:" + new string('0', 64),
                RoutePatternParameterPart => "x",
                _ => "",
            }));
            paths = catchAll
                ? [.. paths.SelectMany(p => new[] { p, p + "/", p + "/" + text })]
                : [.. paths.Select(p => p + "/" + text)];
        }

        return paths.Select(p => p.Length == 0 ? "/" : p).Distinct(StringComparer.Ordinal);
    }

    /// <summary>Every setting name the options classes read, from their source.</summary>
    private static HashSet<string> AppSettingNames()
    {
        var core = Path.Combine(RepoPaths.Root, "src", "Core");
        var sources = Directory.GetFiles(Path.Combine(core, "Options"), "*.cs")
            .Append(Path.Combine(core, "Storage", "Azure", "AzureStorageOptions.cs"))
            .Append(Path.Combine(core, "Queue", "Azure", "AzureQueueOptions.cs"));
        var names = sources.SelectMany(f => SettingRead().Matches(File.ReadAllText(f)).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);

        // A guard on the pattern itself: these are read in the shapes it looks for.
        Assert.Superset(new HashSet<string> { "PORT", "FUNCTIONS_CUSTOMHANDLER_PORT", "NIXERY_QUEUE_NAME", "NIXERY_STORAGE_CONTAINER", "AZURE_CLIENT_ID" }, names);
        return names;
    }

    /// <summary>The settings in README.md's configuration table ("| `NAME` | default | meaning |").</summary>
    private static HashSet<string> ReadmeSettingNames() =>
        ReadmeRow().Matches(File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"))).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>The settings with stand-ins for the values only Azure knows, plus this
    /// machine's Nix expressions. The package source stays as the infra gives it: resolving a
    /// channel needs no Nix and no network at start-up.</summary>
    private static Dictionary<string, string?> StandIns(string resource, IReadOnlyDictionary<string, string> settings)
    {
        var config = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in settings)
        {
            if (HostSettings.Contains(name))
            {
                continue;
            }

            config[name] = !value.StartsWith('[') ? value : name switch
            {
                "AZURE_STORAGE_BLOB_URL" => $"https://{DataAccount}.blob.core.windows.net",
                "AZURE_STORAGE_QUEUE_URL" => $"https://{DataAccount}.queue.core.windows.net",
                "AZURE_CLIENT_ID" => Guid.Empty.ToString(),
                _ => throw new Xunit.Sdk.XunitException($"infra/*.bicep: the {resource}'s {name} is {value}, known only in Azure; give it a stand-in here"),
            };
        }

        config["NIXERY_NIX_PATH"] = RepoPaths.NixDir;
        return config;
    }

    private static void AssertValue<T>(string where, T expected, T actual) =>
        Assert.True(EqualityComparer<T>.Default.Equals(expected, actual), $"{where} is '{actual}'; it must be '{expected}'");

    private static void AssertSame(string where, IEnumerable<string> expected, IEnumerable<string> actual)
    {
        var want = expected.ToList();
        var have = actual.ToList();
        Assert.True(
            want.SequenceEqual(have, StringComparer.Ordinal),
            $"{where}:\n  expected:\n    {string.Join("\n    ", want)}\n  found:\n    {string.Join("\n    ", have)}");
    }

    private static void AssertSetting(string resource, IReadOnlyDictionary<string, string> settings, string name, string expected)
    {
        var actual = settings.GetValueOrDefault(name);
        Assert.True(actual == expected, $"infra/*.bicep: the {resource} sets {name} = {actual ?? "(nothing)"}; the app needs {expected}");
    }

    private static string Name(JsonElement resource) => resource.GetProperty("name").GetString()!;

    /// <summary>"role | identity | scope" of a role assignment, from its ARM expressions.</summary>
    private static string Grant(JsonElement assignment)
    {
        var role = assignment.GetProperty("properties").GetProperty("roleDefinitionId").GetString()!.Split('/')[^1];
        var principal = IdentityName().Match(assignment.GetProperty("properties").GetProperty("principalId").GetString()!).Groups[1].Value;
        var scope = ScopeName().Match(assignment.GetProperty("id").GetString()!).Groups[1].Value;
        return $"{RoleNames.GetValueOrDefault(role, role)} | {principal} | {scope}";
    }

    [GeneratedRegex("""(?:config\["|Settings\.\w+\(config, ")([A-Z][A-Z0-9_]*)"(?:\]|,)""")]
    private static partial Regex SettingRead();

    [GeneratedRegex(@"(?m)^\| `([A-Za-z][A-Za-z0-9_]*)` \|")]
    private static partial Regex ReadmeRow();

    [GeneratedRegex("<AssemblyName>([^<]+)</AssemblyName>")]
    private static partial Regex AssemblyNameRegex();

    [GeneratedRegex(@"userAssignedIdentities/([^']+)'")]
    private static partial Regex IdentityName();

    [GeneratedRegex(@"^\[extensionResourceId\('[^']*/([^'/]+)'")]
    private static partial Regex ScopeName();
}
