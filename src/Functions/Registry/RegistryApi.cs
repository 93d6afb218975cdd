// The registry's HTTP functions, declared once (STYLE.md §6): the name, route and methods of
// each are the [Function]/[HttpTrigger] attributes below, which the Functions SDK writes into
// functions.metadata for the host, and which the embedded default maps onto its own routes
// (src/Embedded/FunctionRoutes.cs), so both hosts run these same methods.
//
//   registry         GET HEAD OPTIONS         v2/{*path}   manifests, blobs, referrers, tags, catalog
//   registry-writes  POST PUT PATCH DELETE    v2/{*path}   405 UNSUPPORTED: pull only
//   registry-base    GET HEAD OPTIONS         v2           the base endpoint: 200 (401 to a client that must log in)
//   landing          GET HEAD                 /            the landing page
//   failures         GET HEAD                 failures     recent failures as JSON
//   image-page       GET HEAD                 images/{*name}  an image's page: pull line, picture of its layers
//   build-events     GET HEAD                 events       builds in progress as Server-Sent Events (the page's live updates)
//   token            GET HEAD                 token        bearer tokens for NIXERY_AUTH=token (Auth/TokenHandler.cs)
//   health           GET HEAD                 healthz      200 when the storage answers, else 503
//
// host.json has an empty route prefix, so the routes are the paths clients use. "/" is the
// optional, empty parameter route "{ignored:maxlength(0)?}" because a function's route cannot
// be empty. Every answer goes through RegistryResult: the API version header on each, a
// RegistryException turned into the registry error body in one place, the request's budget
// (RequestBudget), and a storage outage or timeout answered 503 UNAVAILABLE with Retry-After,
// never 500 (StorageHealth; issue 16). While the storage is known to be unreachable, registry
// requests are answered 503 at once after one shared probe a second; /v2/ answers 200 (or 401
// to a client that must log in) whatever the storage, since clients probe it first.
// With authentication on (NIXERY_AUTH, Auth/AuthOptions.cs) every GET and HEAD under /v2
// passes Auth/RegistryAuth.cs first, with the scope it needs (repository:<name>:pull,
// registry:catalog:* for _catalog, none for /v2/ itself), and the web pages need a user;
// OPTIONS, the 405 of a write and /healthz stay open, as they show nothing of the images.
//
// OPTIONS answers 200 with `Allow: GET, HEAD, OPTIONS`, and so does the 405 of a write: the
// Allow header lists what is supported, never what is refused (RFC 9110 §10.2.1, §15.5.6).
// A request whose target has a "." or ".." path segment is refused (400 NAME_INVALID) rather
// than served for the path the segments resolve to: Kestrel removes dot segments before
// routing, so the raw request target is read. The reference registry (gorilla/mux) redirects
// to the cleaned path instead; a refusal keeps `shell/../git` from ever meaning `git`. Behind
// the Functions host the host's own Kestrel has already resolved them before it forwards the
// request, so there the app never sees them (README, "Deploy to Azure").
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
using System.Text.Json;
using Microsoft.AspNetCore.Http.Features;
using Microsoft.Azure.Functions.Worker;
using Nixery.Core.Errors;
using Nixery.Core.Storage;
using Nixery.Core.Telemetry;
using Nixery.Functions.Auth;
using Nixery.Functions.Builds;
using Nixery.Functions.Web;

namespace Nixery.Functions.Registry;

public sealed class RegistryApi(
    ManifestHandler manifests,
    BlobHandler blobs,
    ReferrersHandler referrers,
    TagsHandler tags,
    CatalogHandler catalog,
    LandingPageHandler page,
    FailuresHandler failures,
    ImagePageHandler imagePage,
    BuildEventsHandler buildEvents,
    RegistryAuth auth,
    TokenHandler token,
    StorageHealth health,
    BuildWaitOptions wait)
{
    public const string Prefix = "/v2";

    /// <summary>The methods every /v2 endpoint supports, as the Allow header lists them.</summary>
    public const string Allowed = "GET, HEAD, OPTIONS";

    [Function("registry")]
    public IResult Registry([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "options", Route = "v2/{*path}")] HttpRequest request) =>
        new RegistryResult(async context =>
        {
            RefuseDotSegments(context);
            // The path after /v2/, from the request itself (the same behind either host).
            var path = context.Request.Path.Value is { } full && full.StartsWith(Prefix, StringComparison.Ordinal) ? full[Prefix.Length..].TrimStart('/') : "";
            if (path.Length == 0)
            {
                await BaseAsync(context);
                return;
            }

            var parsed = RegistryPath.Parse(path);
            if (HttpMethods.IsOptions(context.Request.Method))
            {
                await Options(context);
                return;
            }

            if (parsed.Kind == ResourceKind.Manifest)
            {
                // Counted as the response starts, when its status is final whatever answered
                // (the handler, or RegistryResult for a refusal), and before the client has it.
                context.Response.OnStarting(() =>
                {
                    RegistryTelemetry.ManifestRequests.Add(1, new KeyValuePair<string, object?>("http.response.status_code", context.Response.StatusCode));
                    return Task.CompletedTask;
                });
            }

            await auth.RequireAsync(context, parsed.Kind == ResourceKind.Catalog ? AccessScope.Catalog : AccessScope.PullOf(parsed.Name));

            if (health.IsKnownUnreachable && !await health.CheckAsync(context.RequestAborted))
            {
                throw health.Unavailable();
            }

            if (parsed.Kind == ResourceKind.Manifest && context.Features.Get<RequestBudget>() is { } budget)
            {
                // A manifest by tag may wait for its build: NIXERY_BUILD_WAIT, plus
                // NIXERY_RETRY_AFTER for a build about to end (BuildCoordinator).
                var waiting = wait.BuildWait + TimeSpan.FromSeconds(wait.RetryAfterSeconds);
                budget.SetBudget(waiting > RequestBudget.Default ? waiting : RequestBudget.Default);
            }

            await (parsed.Kind switch
            {
                ResourceKind.Manifest => manifests.HandleAsync(context, parsed),
                ResourceKind.Blob => blobs.HandleAsync(context, parsed),
                ResourceKind.Referrers => referrers.HandleAsync(context, parsed),
                ResourceKind.Tags => tags.HandleAsync(context, parsed),
                _ => catalog.HandleAsync(context),
            });
        });

    [Function("registry-writes")]
    public static IResult Writes([HttpTrigger(AuthorizationLevel.Anonymous, "post", "put", "patch", "delete", Route = "v2/{*path}")] HttpRequest request) =>
        new RegistryResult(_ =>
            throw new RegistryException(
                ErrorCode.Unsupported,
                "this registry is pull-only: images are built from their names, e.g. docker pull <host>/shell/git",
                new Dictionary<string, string> { ["Allow"] = Allowed }));

    [Function("registry-base")]
    public IResult RegistryBase([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", "options", Route = "v2")] HttpRequest request) =>
        new RegistryResult(BaseAsync);

    [Function("landing")]
    public IResult Landing([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "{ignored:maxlength(0)?}")] HttpRequest request) =>
        new RegistryResult(async context =>
        {
            await auth.RequireUserAsync(context);
            await page.HandleAsync(context);
        });

    [Function("failures")]
    public IResult Failures([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "failures")] HttpRequest request) =>
        new RegistryResult(async context =>
        {
            await auth.RequireUserAsync(context);
            await failures.HandleAsync(context);
        });

    [Function("image-page")]
    public IResult ImagePage([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "images/{*name}")] HttpRequest request) =>
        new RegistryResult(async context =>
        {
            await auth.RequireUserAsync(context);
            await imagePage.HandleAsync(context);
        });

    [Function("build-events")]
    public IResult BuildEvents([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "events")] HttpRequest request) =>
        new RegistryResult(async context =>
        {
            await auth.RequireUserAsync(context);
            await buildEvents.HandleAsync(context);
        });

    [Function("token")]
    public IResult Token([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "token")] HttpRequest request) =>
        new RegistryResult(token.HandleAsync);

    /// <summary>The storage's health, for load balancers and probes (Container Apps, Kubernetes):
    /// 200 when one small storage request succeeds now (a probe shared by concurrent callers,
    /// reused for a second), else 503 with Retry-After; the body names the storage:
    /// {"storage":"reachable"|"unreachable","backend":"azure-blob","location":"container … at …"}.</summary>
    [Function("health")]
    public IResult Health([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "healthz")] HttpRequest request) =>
        new RegistryResult(async context =>
        {
            var reachable = await health.CheckAsync(context.RequestAborted);
            using var body = new MemoryStream();
            using (var json = new Utf8JsonWriter(body))
            {
                json.WriteStartObject();
                json.WriteString("storage", reachable ? "reachable" : "unreachable");
                json.WriteString("backend", health.Backend);
                json.WriteString("location", health.Location);
                json.WriteEndObject();
            }

            var response = context.Response;
            response.StatusCode = reachable ? StatusCodes.Status200OK : StatusCodes.Status503ServiceUnavailable;
            response.ContentType = "application/json";
            response.ContentLength = body.Length;
            response.Headers.CacheControl = "no-store";
            if (!reachable)
            {
                response.Headers.RetryAfter = StorageHealth.RetryAfterSeconds.ToString(System.Globalization.CultureInfo.InvariantCulture);
            }

            if (!HttpMethods.IsHead(context.Request.Method))
            {
                await response.Body.WriteAsync(body.GetBuffer().AsMemory(0, (int)body.Length), context.RequestAborted);
            }
        });

    /// <summary>GET /v2/: 200 with the API version header to an authenticated client (any
    /// client with authentication off); clients probe it first, and a 401 here is how they
    /// learn where to log in.</summary>
    private async Task BaseAsync(HttpContext context)
    {
        if (HttpMethods.IsOptions(context.Request.Method))
        {
            await Options(context);
            return;
        }

        await auth.RequireAsync(context, needed: null);

        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = 2;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await context.Response.WriteAsync("{}", context.RequestAborted);
        }
    }

    /// <summary>OPTIONS: what the resource supports, and no body.</summary>
    private static Task Options(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.Headers.Allow = Allowed;
        context.Response.ContentLength = 0;
        return Task.CompletedTask;
    }

    /// <summary>Throws NAME_INVALID when the request as sent had a "." or ".." segment (plain or
    /// percent-encoded), which the server resolved before routing.</summary>
    private static void RefuseDotSegments(HttpContext context)
    {
        var raw = context.Features.Get<IHttpRequestFeature>()?.RawTarget ?? "";
        var query = raw.IndexOf('?', StringComparison.Ordinal);
        var target = Uri.UnescapeDataString((query < 0 ? raw : raw[..query]).Replace("%2F", "%252F", StringComparison.OrdinalIgnoreCase));
        if (target.Split('/').Any(segment => segment is "." or ".."))
        {
            throw new RegistryException(
                ErrorCode.NameInvalid,
                $"the path {RegistryPath.Shorten(raw)} has a '.' or '..' segment; name the repository itself, e.g. /v2/shell/git/manifests/latest");
        }
    }
}

/// <summary>Runs a handler that writes the response itself, with the API version header on
/// every answer, within the request's budget (RequestBudget), and any RegistryException
/// written as the registry error body; a storage outage or timeout (StorageHealth.IsOutage,
/// the budget's end among them) is written as 503 UNAVAILABLE, not left to become a 500.</summary>
public sealed class RegistryResult(Func<HttpContext, Task> handler) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
        var aborted = httpContext.RequestAborted;
        var health = httpContext.RequestServices.GetService<StorageHealth>();
        using var budget = new RequestBudget(RequestBudget.Default, aborted);
        httpContext.Features.Set(budget);
        httpContext.Response.OnStarting(() =>
        {
            budget.Disarm();
            return Task.CompletedTask;
        });
        httpContext.RequestAborted = budget.Token;
        try
        {
            await handler(httpContext);
        }
        catch (RegistryException error) when (!httpContext.Response.HasStarted)
        {
            httpContext.RequestAborted = aborted;
            await ErrorWriter.WriteAsync(httpContext, error);
        }
        catch (Exception fault) when (!httpContext.Response.HasStarted && health is not null && health.IsOutage(fault, aborted))
        {
            httpContext.RequestAborted = aborted;
            health.ReportFault(fault);
            await ErrorWriter.WriteAsync(httpContext, health.Unavailable());
        }
        finally
        {
            httpContext.RequestAborted = aborted;
            httpContext.Features.Set<RequestBudget>(null);
        }
    }
}
