// The deployment and the apps agree (issue 10, "done when" 1 and point 7): infra/*.bicep,
// evaluated by `bicep snapshot` (InfraSnapshot), the two host.json files, the functions.metadata
// the build generated for each Functions app (FunctionMetadata) and the apps' options must name
// the same settings, containers, queues, connections, routes and runtimes. Every failure names
// the file and the value that disagrees.
using System.Globalization;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.AspNetCore.Routing;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Primitives;
using Nixery.Builder;
using Nixery.Core.Azure;
using Nixery.Core.Options;
using Nixery.Functions.Hosting;
using Nixery.TestSupport;

namespace Nixery.Functions.Tests.Deploy;

public sealed partial class DeploymentConsistencyTests(InfraSnapshot infra) : IClassFixture<InfraSnapshot>
{
    private const string SiteType = "Microsoft.Web/sites";
    private const string ContainerAppType = "Microsoft.App/containerApps";
    private const string StorageType = "Microsoft.Storage/storageAccounts";
    private const string IdentityType = "Microsoft.ManagedIdentity/userAssignedIdentities";

    private const string DataAccount = InfraSnapshot.PrefixWithoutHyphens + "data";
    private const string HostAccount = InfraSnapshot.PrefixWithoutHyphens + "host";
    private const string WorkerHostAccount = InfraSnapshot.PrefixWithoutHyphens + "whost";
    private const string FunctionApp = InfraSnapshot.NamePrefix;
    private const string Worker = InfraSnapshot.NamePrefix + "-worker";
    private const string HttpIdentity = InfraSnapshot.NamePrefix + "-http-id";
    private const string WorkerIdentity = InfraSnapshot.NamePrefix + "-worker-id";

    /// <summary>The connection of the worker's queue trigger and poison output binding
    /// (src/Worker/BuildFunction.cs), and of every Functions host's own storage.</summary>
    private const string QueueConnection = "NixeryStorage";
    private const string HostStorageConnection = "AzureWebJobsStorage";

    /// <summary>Settings the Azure Functions host or the platform reads, not the app: telemetry,
    /// no host home page at "/" (the app's landing page is there), and the worker runtime of a
    /// Functions-on-Container-Apps app. Connections (NAME__property) are derived from the
    /// metadata instead.</summary>
    private static readonly HashSet<string> HostSettings = new(StringComparer.Ordinal)
    {
        "APPLICATIONINSIGHTS_CONNECTION_STRING",
        "APPLICATIONINSIGHTS_AUTHENTICATION_STRING",
        "AzureWebJobsDisableHomepage",
        "FUNCTIONS_WORKER_RUNTIME",
    };

    /// <summary>The properties of an identity-based connection the host reads
    /// (learn.microsoft.com/azure/azure-functions/functions-reference, "Common properties for
    /// identity-based connections", and the storage service URIs).</summary>
    private static readonly HashSet<string> ConnectionProperties = new(StringComparer.Ordinal)
    {
        "accountName", "blobServiceUri", "queueServiceUri", "tableServiceUri", "credential", "clientId",
    };

    /// <summary>Built-in role definition ids: https://learn.microsoft.com/azure/role-based-access-control/built-in-roles</summary>
    private static readonly Dictionary<string, string> RoleNames = new(StringComparer.Ordinal)
    {
        ["ba92f5b4-2d11-453d-a403-e96b0029c9fe"] = "Storage Blob Data Contributor",
        ["b7e6dc6d-f1e8-4753-8033-0f276bb0955b"] = "Storage Blob Data Owner",
        ["974c5e8b-45b9-4653-ba55-5f855dd0fb88"] = "Storage Queue Data Contributor",
        ["7f951dda-4ed3-4680-a7ca-43fe172d538d"] = "AcrPull",
        ["3913510d-42f4-4e42-8a64-420c390055eb"] = "Monitoring Metrics Publisher",
    };

    private static readonly Lazy<IReadOnlyList<FunctionMetadata>> HttpFunctions = new(() => FunctionMetadata.Load("Functions"));

    private static readonly Lazy<IReadOnlyList<FunctionMetadata>> WorkerFunctions = new(() => FunctionMetadata.Load("Worker"));

    private IReadOnlyDictionary<string, string> FunctionAppSettings =>
        InfraSnapshot.NameValues(InfraSnapshot.At(infra.Resource(SiteType, FunctionApp), "properties.siteConfig.appSettings"));

    private IReadOnlyDictionary<string, string> WorkerSettings =>
        InfraSnapshot.NameValues(InfraSnapshot.At(WorkerContainer, "env"));

    private JsonElement WorkerContainer =>
        InfraSnapshot.At(infra.Resource(ContainerAppType, Worker), "properties.template.containers").EnumerateArray().Single();

    /// <summary>Each app: where the infra sets its settings, the options classes it reads them
    /// with (as its Program.cs checks them), the functions the build generated.</summary>
    private IEnumerable<(string Resource, IReadOnlyDictionary<string, string> Settings, Func<IConfiguration, IReadOnlyList<Type>> Options, IReadOnlyList<FunctionMetadata> Functions)> Apps =>
    [
        ($"the HTTP function app's app settings ({SiteType} '{FunctionApp}')", FunctionAppSettings,
            config => [.. RegistryHosting.SettingTypes(config), typeof(AzureQueueOptions)], HttpFunctions.Value),
        ($"the worker's environment ({ContainerAppType} '{Worker}')", WorkerSettings,
            config => [.. StorageRegistration.StorageSettings(config), .. BuilderServiceCollectionExtensions.SettingTypes], WorkerFunctions.Value),
    ];

    [Fact]
    public async Task InfraCompilesWithoutWarnings()
    {
        var result = await Bicep.RunAsync("build", Path.Combine(InfraSnapshot.InfraDir, "main.bicep"), "--stdout");

        Assert.True(result.ExitCode == 0 && result.Stderr.Trim().Length == 0, $"infra/main.bicep: bicep build exited {result.ExitCode}:\n{result.Stderr}");
    }

    /// <summary>No setting is set for nothing: the app reads it (for its part: the options record
    /// which keys they looked up), or the Functions host does (a connection a binding names, a
    /// %NAME% binding expression, host storage, telemetry); and the README documents it.</summary>
    [Fact]
    public void EverySettingTheInfraSetsIsReadByTheAppOrItsHostAndTheReadmeDocumentsIt()
    {
        var documented = ReadmeSettingNames();
        var problems = new List<string>();
        foreach (var (resource, settings, options, functions) in Apps)
        {
            var config = new ConfigurationBuilder().AddInMemoryCollection(StandIns(resource, settings)).Build();
            var read = options(config).SelectMany(type => Settings.SettingsOf(type).Select(s => s.Key)).ToHashSet(StringComparer.Ordinal);
            var connections = functions.SelectMany(f => f.Bindings).Select(b => b.Properties.GetValueOrDefault("connection")).OfType<string>()
                .Append(HostStorageConnection).ToHashSet(StringComparer.Ordinal);
            var expressions = functions.SelectMany(f => f.Bindings).SelectMany(b => b.Properties.Values)
                .SelectMany(v => BindingExpression().Matches(v).Select(m => m.Groups[1].Value)).ToHashSet(StringComparer.Ordinal);

            foreach (var name in settings.Keys)
            {
                var parts = name.Split("__", 2);
                var connection = parts.Length == 2 && connections.Contains(parts[0]) ? parts[0] : null;
                if (connection is not null && !ConnectionProperties.Contains(parts[1]))
                {
                    problems.Add($"infra/*.bicep: {resource} set {name}; '{parts[1]}' is no property of an identity-based connection ({string.Join(", ", ConnectionProperties)}).");
                }
                else if (connection is null && !HostSettings.Contains(name) && !expressions.Contains(name) && !read.Contains(name))
                {
                    problems.Add($"infra/*.bicep: {resource} set {name}, which neither the app (its options classes) nor its Functions host reads.");
                }
                else if (!documented.Contains(connection ?? name))
                {
                    problems.Add($"README.md: no settings table has a row for {connection ?? name}, which {resource} set.");
                }
            }
        }

        Assert.True(problems.Count == 0, string.Join("\n", problems.Distinct(StringComparer.Ordinal)));
    }

    [Fact]
    public void TheAppsAcceptTheSettingsTheInfraGivesThem()
    {
        foreach (var (resource, settings, options, _) in Apps)
        {
            var config = new ConfigurationBuilder().AddInMemoryCollection(StandIns(resource, settings)).Build();

            var error = Settings.Problems(config, options(config));

            Assert.True(error is null, $"infra/*.bicep: {resource} do not start the app: {error}");
            Assert.True(StorageOptions.UsesAzure(config), $"infra/*.bicep: {resource} do not choose Azure storage");
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
        // The HTTP side resolves names against the package source; builds carry it in their job.
        AssertSetting(Apps.First().Resource, Apps.First().Settings, "NIXERY_CHANNEL", InfraSnapshot.PackageSource);
        foreach (var (resource, settings, _, _) in Apps)
        {
            AssertSetting(resource, settings, "NIXERY_STORAGE_CONTAINER", AzureStorageOptions.DefaultContainer);
            AssertSetting(resource, settings, "NIXERY_QUEUE_NAME", AzureQueueOptions.DefaultQueueName);
            AssertSetting(resource, settings, "NIXERY_STORAGE_BACKEND", "azure");
            Assert.True(
                settings["AZURE_STORAGE_BLOB_URL"].Contains($"'https://{{0}}.blob.{{1}}', '{DataAccount}'", StringComparison.Ordinal),
                $"infra/main.bicep: {resource} have AZURE_STORAGE_BLOB_URL = {settings["AZURE_STORAGE_BLOB_URL"]}, not the blob endpoint of {DataAccount}");
        }

        Assert.True(
            FunctionAppSettings["AZURE_STORAGE_QUEUE_URL"].Contains($"'https://{{0}}.queue.{{1}}', '{DataAccount}'", StringComparison.Ordinal),
            $"infra/main.bicep: the HTTP function app's AZURE_STORAGE_QUEUE_URL is {FunctionAppSettings["AZURE_STORAGE_QUEUE_URL"]}, not the queue endpoint of {DataAccount}");
    }

    /// <summary>The job the HTTP app enqueues reaches the build function: its trigger's queue
    /// expression resolves through the worker's settings to the queue the HTTP app sends to and
    /// the storage module creates, its poison output to that queue's "-poison" twin, and its
    /// connection reaches that account's queue endpoint with the worker's identity.</summary>
    [Fact]
    public void TheQueueTriggerReadsTheQueueTheHttpAppSendsToWithTheWorkersIdentity()
    {
        var build = WorkerFunctions.Value.Single();
        var trigger = build.Trigger;
        var poison = build.Bindings.Single(b => b.Type == "queue" && b.Direction == "Out");
        var settings = WorkerSettings;
        var queues = infra.OfType($"{StorageType}/queueServices/queues").Select(Name).ToHashSet(StringComparer.Ordinal);

        AssertValue("src/Worker functions.metadata: the build function's trigger", ("build", "queueTrigger"), (build.Name, trigger.Type));
        var queue = Resolve("the queue trigger's queueName", trigger.Properties["queueName"], settings);
        var poisonQueue = Resolve("the poison output's queueName", poison.Properties["queueName"], settings);
        AssertValue("the worker's trigger queue and the queue the HTTP app sends to (its NIXERY_QUEUE_NAME)", FunctionAppSettings["NIXERY_QUEUE_NAME"], queue);
        Assert.True(queues.Contains($"{DataAccount}/default/{queue}"), $"infra/modules/storage.bicep creates no queue '{queue}' in {DataAccount}, which the build function's trigger reads");
        AssertValue("the poison output's queue (the host's <queue>-poison)", queue + AzureQueueOptions.PoisonSuffix, poisonQueue);
        Assert.True(queues.Contains($"{DataAccount}/default/{poisonQueue}"), $"infra/modules/storage.bicep creates no queue '{poisonQueue}' in {DataAccount}");

        AssertValue("src/Worker functions.metadata: the trigger's connection", QueueConnection, trigger.Properties["connection"]);
        AssertValue("src/Worker functions.metadata: the poison output's connection", QueueConnection, poison.Properties["connection"]);
        AssertValue($"infra/modules/worker.bicep: {QueueConnection}__queueServiceUri", $"[format('https://{{0}}.queue.{{1}}', '{DataAccount}', environment().suffixes.storage)]", settings.GetValueOrDefault($"{QueueConnection}__queueServiceUri"));
        AssertValue($"infra/modules/worker.bicep: {QueueConnection}__credential", "managedidentity", settings.GetValueOrDefault($"{QueueConnection}__credential"));
        Assert.Contains($"userAssignedIdentities/{WorkerIdentity}'", settings.GetValueOrDefault($"{QueueConnection}__clientId") ?? "", StringComparison.Ordinal);
        Assert.False(settings.ContainsKey(QueueConnection), $"infra/modules/worker.bicep: the worker sets {QueueConnection} (a connection string); on Azure the connection is by identity");
    }

    [Fact]
    public async Task HttpFunctionsAreAnonymousOnTheRoutesAndMethodsTheEmbeddedDefaultMaps()
    {
        // The one function that is not HTTP: the garbage collector's timer (issue 13.4), which
        // the embedded default runs as a hosted service instead.
        var timer = Assert.Single(HttpFunctions.Value, f => f.Trigger.Type != "httpTrigger");
        AssertValue("src/Functions functions.metadata: the non-HTTP function", ("collect-garbage", "timerTrigger"), (timer.Name, timer.Trigger.Type));
        AssertValue("src/Functions functions.metadata: collect-garbage's schedule (hourly)", "0 17 * * * *", timer.Trigger.Properties.GetValueOrDefault("schedule"));
        var functions = HttpFunctions.Value.Where(f => f != timer).ToList();
        foreach (var function in functions)
        {
            AssertValue($"src/Functions functions.metadata: {function.Name}'s trigger", "httpTrigger", function.Trigger.Type);
            AssertValue($"src/Functions functions.metadata: {function.Name}'s authLevel", "Anonymous", function.Trigger.Properties.GetValueOrDefault("authLevel"));
            Assert.Contains(function.Bindings, b => b.Type == "http" && b.Direction == "Out");
        }

        using var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Functions", "host.json")));
        AssertValue("src/Functions/host.json: extensions.http.routePrefix (the registry answers at /v2/)", "", InfraSnapshot.At(hostJson.RootElement, "extensions.http.routePrefix").GetString());
        AssertSame(
            "src/Functions functions.metadata (the Functions host's routes) against the embedded default's routes (src/Embedded/FunctionRoutes.cs)",
            await EmbeddedRoutesAsync(),
            functions.Select(f => $"{f.Name}: {f.Trigger.Properties["route"]} {string.Join(" ", f.Trigger.Methods)}").Order(StringComparer.Ordinal));
    }

    [Fact]
    public void HttpAppRunsOnFlexConsumptionAsTheDotnetIsolatedRuntimeOfItsFramework()
    {
        var site = infra.Resource(SiteType, FunctionApp);
        var plan = infra.Resource("Microsoft.Web/serverfarms", InfraSnapshot.NamePrefix + "-plan");
        using var runtimeConfig = JsonDocument.Parse(File.ReadAllText(FunctionMetadata.BuiltFile("Functions", "Nixery.Functions.runtimeconfig.json")));
        var framework = runtimeConfig.RootElement.GetProperty("runtimeOptions").GetProperty("tfm").GetString()!;

        AssertValue("infra/modules/functionapp.bicep: functionAppConfig.runtime.name", "dotnet-isolated", InfraSnapshot.At(site, "properties.functionAppConfig.runtime.name").GetString());
        AssertValue($"infra/modules/functionapp.bicep: functionAppConfig.runtime.version (src/Functions targets {framework})", framework["net".Length..], InfraSnapshot.At(site, "properties.functionAppConfig.runtime.version").GetString());
        AssertValue("infra/modules/functionapp.bicep: the function app's kind", "functionapp,linux", site.GetProperty("kind").GetString());
        AssertValue("infra/modules/functionapp.bicep: the plan's SKU", "FC1", InfraSnapshot.At(plan, "sku.name").GetString());
        Assert.True(InfraSnapshot.At(plan, "properties.reserved").GetBoolean(), "infra/modules/functionapp.bicep: the plan is not Linux (reserved: true)");
        foreach (var name in new[] { "FUNCTIONS_WORKER_RUNTIME", "FUNCTIONS_EXTENSION_VERSION", "PORT", "ASPNETCORE_URLS", "urls" })
        {
            // Flex Consumption takes the runtime from functionAppConfig and rejects these; the host assigns ports.
            Assert.False(FunctionAppSettings.ContainsKey(name), $"infra/modules/functionapp.bicep: the HTTP function app sets {name} = {FunctionAppSettings.GetValueOrDefault(name)}");
        }

        AssertValue(
            "infra/modules/functionapp.bicep: the package container (functionAppConfig.deployment.storage.value)",
            $"[format('https://{{0}}.blob.{{1}}/{{2}}', '{HostAccount}', environment().suffixes.storage, 'function-package')]",
            InfraSnapshot.At(site, "properties.functionAppConfig.deployment.storage.value").GetString());
    }

    [Fact]
    public void WorkerIsAFunctionsAppOnTheContainerAppsEnvironmentScaledZeroToMaxWorkersByThePlatform()
    {
        var app = infra.Resource(ContainerAppType, Worker);
        var scale = InfraSnapshot.At(app, "properties.template.scale");
        var ingress = InfraSnapshot.At(app, "properties.configuration.ingress");
        var registry = InfraSnapshot.At(app, "properties.configuration.registries").EnumerateArray().Single();

        AssertValue("infra/modules/worker.bicep: the worker's kind (Functions on Container Apps)", "functionapp", app.GetProperty("kind").GetString());
        AssertValue("infra/modules/worker.bicep: the worker's environment", InfraSnapshot.ResourceId("Microsoft.App/managedEnvironments", InfraSnapshot.NamePrefix + "-env"), InfraSnapshot.At(app, "properties.environmentId").GetString());
        AssertValue("infra/modules/worker.bicep: minReplicas", 0, scale.GetProperty("minReplicas").GetInt32());
        AssertValue("infra/modules/worker.bicep: maxReplicas (main.bicep maxWorkers)", InfraSnapshot.MaxWorkers, scale.GetProperty("maxReplicas").GetInt32());
        // The platform derives the queue rule from the trigger; a hand-written one would compete with it.
        Assert.False(scale.TryGetProperty("rules", out _), "infra/modules/worker.bicep: the worker has scale rules of its own; Functions on Container Apps derives them from its queue trigger");
        Assert.False(ingress.GetProperty("external").GetBoolean(), "infra/modules/worker.bicep: the worker's ingress is external; it serves nothing outside the environment");
        AssertValue("infra/modules/worker.bicep: the ingress target port (the Functions host's port in the base image)", 80, ingress.GetProperty("targetPort").GetInt32());
        AssertValue("infra/modules/worker.bicep: the identity the image is pulled with", InfraSnapshot.ResourceId(IdentityType, WorkerIdentity), registry.GetProperty("identity").GetString());
        AssertValue("infra/modules/worker.bicep: the worker image (main.bicep workerImage)", InfraSnapshot.WorkerImage, WorkerContainer.GetProperty("image").GetString());
        AssertSame(
            "infra/modules/worker.bicep: the worker's identities",
            [InfraSnapshot.ResourceId(IdentityType, WorkerIdentity)],
            InfraSnapshot.At(app, "identity.userAssignedIdentities").EnumerateObject().Select(p => p.Name));
    }

    /// <summary>src/Worker/host.json runs one build at a time per instance, decodes the messages
    /// the HTTP app writes (Base64 of UTF-8 JSON), and lets a build run longer than the Nix step
    /// timeout the infra gives the worker.</summary>
    [Fact]
    public void WorkerHostJsonTakesOneBase64JobAtATimeForLongerThanANixStep()
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllText(Path.Combine(RepoPaths.Root, "src", "Worker", "host.json")));
        var queues = InfraSnapshot.At(hostJson.RootElement, "extensions.queues");
        var functionTimeout = TimeSpan.Parse(hostJson.RootElement.GetProperty("functionTimeout").GetString()!, CultureInfo.InvariantCulture);
        var nixTimeout = TimeSpan.FromSeconds(int.Parse(WorkerSettings["NIX_TIMEOUT"], CultureInfo.InvariantCulture));

        AssertValue("src/Worker/host.json: extensions.queues.batchSize", 1, queues.GetProperty("batchSize").GetInt32());
        AssertValue("src/Worker/host.json: extensions.queues.newBatchThreshold", 0, queues.GetProperty("newBatchThreshold").GetInt32());
        AssertValue("src/Worker/host.json: extensions.queues.messageEncoding (the HTTP app writes Base64)", "base64", queues.GetProperty("messageEncoding").GetString());
        Assert.True(queues.GetProperty("maxDequeueCount").GetInt32() >= 1, "src/Worker/host.json: extensions.queues.maxDequeueCount must be at least 1");
        Assert.True(functionTimeout > nixTimeout, $"src/Worker/host.json: functionTimeout {functionTimeout} is not longer than the worker's NIX_TIMEOUT {nixTimeout} (infra/main.bicep)");
    }

    [Fact]
    public void EachAppSignsInWithItsOwnIdentityAndHoldsOnlyItsRoles()
    {
        var grants = infra.OfType("Microsoft.Authorization/roleAssignments").Select(Grant).Order(StringComparer.Ordinal);

        AssertSame(
            "infra/modules: role assignments (role | identity | scope)",
            new[]
            {
                $"AcrPull | {WorkerIdentity} | {InfraSnapshot.PrefixWithoutHyphens}acr",
                $"Monitoring Metrics Publisher | {HttpIdentity} | {InfraSnapshot.NamePrefix}-insights",
                $"Monitoring Metrics Publisher | {WorkerIdentity} | {InfraSnapshot.NamePrefix}-insights",
                $"Storage Blob Data Contributor | {HttpIdentity} | {DataAccount}",
                $"Storage Blob Data Contributor | {WorkerIdentity} | {DataAccount}",
                $"Storage Blob Data Owner | {HttpIdentity} | {HostAccount}",
                $"Storage Blob Data Owner | {WorkerIdentity} | {WorkerHostAccount}",
                $"Storage Queue Data Contributor | {HttpIdentity} | {DataAccount}",
                $"Storage Queue Data Contributor | {WorkerIdentity} | {DataAccount}",
            }.Order(StringComparer.Ordinal),
            grants);
        AssertSame(
            "infra/modules/identities.bicep: identities",
            [HttpIdentity, WorkerIdentity],
            infra.OfType(IdentityType).Select(Name).Order(StringComparer.Ordinal));
        foreach (var (resource, settings, identity, hostAccount) in new[]
        {
            ("the HTTP function app", FunctionAppSettings, HttpIdentity, HostAccount),
            ("the worker", WorkerSettings, WorkerIdentity, WorkerHostAccount),
        })
        {
            foreach (var name in new[] { "AZURE_CLIENT_ID", $"{HostStorageConnection}__clientId" })
            {
                Assert.True(
                    settings[name].Contains($"userAssignedIdentities/{identity}'", StringComparison.Ordinal),
                    $"infra/*.bicep: {resource}'s {name} is {settings[name]}, not {identity}'s client id");
            }

            AssertValue($"infra/*.bicep: {resource}'s {HostStorageConnection}__accountName", hostAccount, settings[$"{HostStorageConnection}__accountName"]);
            AssertValue($"infra/*.bicep: {resource}'s {HostStorageConnection}__credential", "managedidentity", settings[$"{HostStorageConnection}__credential"]);
        }

        foreach (var account in infra.OfType(StorageType))
        {
            Assert.True(
                !InfraSnapshot.At(account, "properties.allowSharedKeyAccess").GetBoolean(),
                $"infra/modules: storage account '{Name(account)}' allows shared-key access");
        }
    }

    /// <summary>"name: route METHODS" of every HTTP endpoint the embedded default maps.</summary>
    private static async Task<IReadOnlyList<string>> EmbeddedRoutesAsync()
    {
        using var folder = new TempDir("nixery-embedded-routes");
        await using var app = await RegistryInstance.StartAsync(folder.Combine("storage"), new Dictionary<string, string?> { ["NIXERY_WORKERS"] = "0" });
        return [.. app.Services.GetRequiredService<EndpointDataSource>().Endpoints.OfType<RouteEndpoint>()
            .Select(e => $"{e.Metadata.GetMetadata<IEndpointNameMetadata>()?.EndpointName}: {e.RoutePattern.RawText} {string.Join(" ", e.Metadata.GetMetadata<IHttpMethodMetadata>()?.HttpMethods ?? [])}")
            .Order(StringComparer.Ordinal)];
    }

    /// <summary>A %NAME% binding expression resolved through the app's settings, as the host does.</summary>
    private static string Resolve(string what, string expression, IReadOnlyDictionary<string, string> settings) =>
        BindingExpression().Replace(expression, m => settings.TryGetValue(m.Groups[1].Value, out var value)
            ? value
            : throw new Xunit.Sdk.XunitException($"src/Worker functions.metadata: {what} '{expression}' names the setting {m.Groups[1].Value}, which infra/*.bicep does not give the worker"));

    /// <summary>The settings in README.md's tables ("| `NAME` | … |").</summary>
    private static HashSet<string> ReadmeSettingNames() =>
        ReadmeRow().Matches(File.ReadAllText(Path.Combine(RepoPaths.Root, "README.md"))).Select(m => m.Groups[1].Value).ToHashSet(StringComparer.Ordinal);

    /// <summary>The settings with stand-ins for the values only Azure knows, plus this
    /// machine's Nix expressions for the worker. The package source stays as the infra gives it:
    /// resolving a channel needs no Nix and no network at start-up.</summary>
    private static Dictionary<string, string?> StandIns(string resource, IReadOnlyDictionary<string, string> settings)
    {
        var config = new Dictionary<string, string?>(StringComparer.Ordinal);
        foreach (var (name, value) in settings)
        {
            // Environment variables reach .NET configuration with "__" as the section separator.
            config[name.Replace("__", ":", StringComparison.Ordinal)] = !value.StartsWith('[') ? value : name switch
            {
                "AZURE_STORAGE_BLOB_URL" => $"https://{DataAccount}.blob.core.windows.net",
                "AZURE_STORAGE_QUEUE_URL" => $"https://{DataAccount}.queue.core.windows.net",
                "AZURE_CLIENT_ID" => Guid.Empty.ToString(),
                // A connection's properties (NAME__clientId, NAME__queueServiceUri, …) and host settings.
                _ when name.EndsWith("__clientId", StringComparison.Ordinal) => Guid.Empty.ToString(),
                _ when name.EndsWith("ServiceUri", StringComparison.Ordinal) => $"https://{DataAccount}.queue.core.windows.net",
                _ when HostSettings.Contains(name) => "stand-in",
                _ => throw new Xunit.Sdk.XunitException($"infra/*.bicep: in {resource}, {name} is {value}, known only in Azure; give it a stand-in here"),
            };
        }

        // The image sets it for the worker (deploy/worker.Containerfile); the HTTP app reads none.
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
        Assert.True(actual == expected, $"infra/*.bicep: {resource} set {name} = {actual ?? "(nothing)"}; the app needs {expected}");
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

    [GeneratedRegex("%([A-Za-z0-9_]+)%")]
    private static partial Regex BindingExpression();

    [GeneratedRegex(@"(?m)^\| `([A-Za-z][A-Za-z0-9_]*)` \|")]
    private static partial Regex ReadmeRow();

    [GeneratedRegex(@"userAssignedIdentities/([^']+)'")]
    private static partial Regex IdentityName();

    [GeneratedRegex(@"^\[extensionResourceId\('[^']*/([^'/]+)'")]
    private static partial Regex ScopeName();
}
