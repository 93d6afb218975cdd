// The registry's HTTP functions, declared once (STYLE.md §6): the name, route and methods of
// each are the [Function]/[HttpTrigger] attributes below, which the Functions SDK writes into
// functions.metadata for the host, and which the embedded default maps onto its own routes
// (src/Embedded/FunctionRoutes.cs), so both hosts run these same methods.
//
//   registry         GET HEAD                 v2/{*path}   manifests and blobs
//   registry-writes  POST PUT PATCH DELETE    v2/{*path}   405 UNSUPPORTED: pull only
//   registry-base    GET HEAD                 v2           the base endpoint, always 200
//   landing          GET HEAD                 /            the landing page
//   failures         GET HEAD                 failures     recent failures as JSON
//
// host.json has an empty route prefix, so the routes are the paths clients use. "/" is the
// optional, empty parameter route "{ignored:maxlength(0)?}" because a function's route cannot
// be empty. Every answer goes through RegistryResult: the API version header on each, and a
// RegistryException turned into the registry error body in one place.
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
using Microsoft.Azure.Functions.Worker;
using Nixery.Core.Errors;
using Nixery.Functions.Web;

namespace Nixery.Functions.Registry;

public sealed class RegistryApi(ManifestHandler manifests, BlobHandler blobs, LandingPageHandler page, FailuresHandler failures)
{
    public const string Prefix = "/v2";

    [Function("registry")]
    public IResult Registry([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2/{*path}")] HttpRequest request) =>
        new RegistryResult(context =>
        {
            // The path after /v2/, from the request itself (the same behind either host).
            var path = context.Request.Path.Value is { } full && full.StartsWith(Prefix, StringComparison.Ordinal) ? full[Prefix.Length..].TrimStart('/') : "";
            if (path.Length == 0)
            {
                return Base(context);
            }

            var parsed = RegistryPath.Parse(path);
            return parsed.Kind == ResourceKind.Manifest ? manifests.HandleAsync(context, parsed) : blobs.HandleAsync(context, parsed);
        });

    [Function("registry-writes")]
    public static IResult Writes([HttpTrigger(AuthorizationLevel.Anonymous, "post", "put", "patch", "delete", Route = "v2/{*path}")] HttpRequest request) =>
        new RegistryResult(_ =>
            throw new RegistryException(ErrorCode.Unsupported, "this registry is pull-only: images are built from their names, e.g. docker pull <host>/shell/git"));

    [Function("registry-base")]
    public static IResult RegistryBase([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "v2")] HttpRequest request) =>
        new RegistryResult(Base);

    [Function("landing")]
    public IResult Landing([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "{ignored:maxlength(0)?}")] HttpRequest request) =>
        new RegistryResult(page.HandleAsync);

    [Function("failures")]
    public IResult Failures([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "failures")] HttpRequest request) =>
        new RegistryResult(failures.HandleAsync);

    /// <summary>GET /v2/: 200 with the API version header, always; clients probe it first.</summary>
    private static Task Base(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = 2;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync("{}", context.RequestAborted);
    }
}

/// <summary>Runs a handler that writes the response itself, with the API version header on
/// every answer and any RegistryException written as the registry error body.</summary>
public sealed class RegistryResult(Func<HttpContext, Task> handler) : IResult
{
    public async Task ExecuteAsync(HttpContext httpContext)
    {
        httpContext.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
        try
        {
            await handler(httpContext);
        }
        catch (RegistryException error) when (!httpContext.Response.HasStarted)
        {
            await ErrorWriter.WriteAsync(httpContext, error);
        }
    }
}
