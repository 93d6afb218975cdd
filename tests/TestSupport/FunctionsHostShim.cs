// A stand-in for the HTTP front of the Azure Functions host, which cannot run here: it reads
// host.json and the function definitions (<name>/function.json) and, like the host with
// "enableForwardingHttpRequest", forwards each request whose path and method match an HTTP
// trigger to the custom handler unchanged, and answers 404 itself for everything else.
// Routes are matched with ASP.NET Core's route templates, the syntax function.json uses
// (https://learn.microsoft.com/azure/azure-functions/functions-bindings-http-webhook-trigger#customize-the-http-endpoint).
// Each forwarded answer says which function routed it (RoutedByHeader).
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Nixery.TestSupport;

public sealed record FunctionDefinition(string Name, string Route, IReadOnlyList<string> Methods, string AuthLevel, IReadOnlyList<string> BindingTypes)
{
    /// <summary>Every &lt;name&gt;/function.json under <paramref name="root"/>, by name.</summary>
    public static IReadOnlyList<FunctionDefinition> LoadAll(string root) =>
        [.. Directory.GetDirectories(root)
            .Where(d => File.Exists(Path.Combine(d, "function.json")))
            .Order(StringComparer.Ordinal)
            .Select(d => Load(Path.GetFileName(d), Path.Combine(d, "function.json")))];

    public static FunctionDefinition Load(string name, string path)
    {
        using var json = JsonDocument.Parse(File.ReadAllText(path));
        var bindings = json.RootElement.GetProperty("bindings").EnumerateArray().ToList();
        var trigger = bindings.SingleOrDefault(b => b.GetProperty("type").GetString() == "httpTrigger");
        if (trigger.ValueKind != JsonValueKind.Object)
        {
            throw new InvalidOperationException($"{path} has no httpTrigger binding");
        }

        return new FunctionDefinition(
            name,
            trigger.TryGetProperty("route", out var route) ? route.GetString() ?? name : name,
            [.. trigger.GetProperty("methods").EnumerateArray().Select(m => m.GetString()!.ToUpperInvariant())],
            trigger.TryGetProperty("authLevel", out var level) ? level.GetString() ?? "function" : "function",
            [.. bindings.Select(b => $"{b.GetProperty("type").GetString()}/{b.GetProperty("direction").GetString()}")]);
    }
}

public sealed class FunctionsHostShim : IAsyncDisposable
{
    /// <summary>Set on every answer the shim forwarded: the name of the function that matched.</summary>
    public const string RoutedByHeader = "X-Functions-Shim-Function";

    private static readonly HashSet<string> HopByHop = new(StringComparer.OrdinalIgnoreCase)
    {
        "Connection", "Keep-Alive", "Transfer-Encoding", "Upgrade", "Proxy-Connection", "TE", "Trailer", "Host",
    };

    private readonly WebApplication _app;
    private readonly HttpClient _handler;

    private FunctionsHostShim(WebApplication app, HttpClient handler, Uri baseAddress)
    {
        _app = app;
        _handler = handler;
        BaseAddress = baseAddress;
    }

    public Uri BaseAddress { get; }

    /// <summary>host:port, as a registry reference for skopeo.</summary>
    public string HostPort => $"{BaseAddress.Host}:{BaseAddress.Port}";

    /// <summary>Starts on a free loopback port, routing by the functions under
    /// <paramref name="functionsRoot"/> with host.json's route prefix, to the handler at
    /// <paramref name="handler"/>.</summary>
    public static async Task<FunctionsHostShim> StartAsync(string hostJsonPath, string functionsRoot, Uri handler)
    {
        using var hostJson = JsonDocument.Parse(File.ReadAllText(hostJsonPath));
        var prefix = hostJson.RootElement.TryGetProperty("extensions", out var extensions)
            && extensions.TryGetProperty("http", out var http)
            && http.TryGetProperty("routePrefix", out var routePrefix)
                ? routePrefix.GetString() ?? "api"
                : "api";
        var functions = FunctionDefinition.LoadAll(functionsRoot);
        if (functions.Count == 0)
        {
            throw new InvalidOperationException($"no <name>/function.json under {functionsRoot}");
        }

        var builder = WebApplication.CreateBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.ClearProviders();
        var app = builder.Build();
        var client = new HttpClient(new SocketsHttpHandler { AllowAutoRedirect = false, UseCookies = false })
        {
            BaseAddress = handler,
            Timeout = Timeout.InfiniteTimeSpan,
        };
        foreach (var function in functions)
        {
            var template = string.IsNullOrEmpty(prefix) ? function.Route : $"{prefix}/{function.Route}";
            app.MapMethods(template, function.Methods, (HttpContext context) => ForwardAsync(context, client, function.Name));
        }

        app.MapFallback((HttpContext context) =>
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        });
        await app.StartAsync();
        var address = new Uri(app.Urls.First());
        return new FunctionsHostShim(app, client, address);
    }

    private static async Task ForwardAsync(HttpContext context, HttpClient handler, string function)
    {
        var request = context.Request;
        using var message = new HttpRequestMessage(new HttpMethod(request.Method), request.Path.ToUriComponent().TrimStart('/') + request.QueryString.ToUriComponent());
        if (request.ContentLength > 0 || request.Headers.TransferEncoding.Count > 0)
        {
            message.Content = new StreamContent(request.Body);
        }

        foreach (var (name, values) in request.Headers)
        {
            if (HopByHop.Contains(name))
            {
                continue;
            }

            if (!message.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values))
            {
                message.Content?.Headers.TryAddWithoutValidation(name, (IEnumerable<string?>)values);
            }
        }

        using var answer = await handler.SendAsync(message, HttpCompletionOption.ResponseHeadersRead, context.RequestAborted);
        context.Response.StatusCode = (int)answer.StatusCode;
        foreach (var (name, values) in answer.Headers.Concat(answer.Content.Headers))
        {
            if (!HopByHop.Contains(name))
            {
                context.Response.Headers[name] = values.ToArray();
            }
        }

        context.Response.Headers[RoutedByHeader] = function;
        if (!HttpMethods.IsHead(request.Method))
        {
            await answer.Content.CopyToAsync(context.Response.Body, context.RequestAborted);
        }
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
        _handler.Dispose();
    }
}
