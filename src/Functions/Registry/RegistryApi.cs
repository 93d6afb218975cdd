// The routes of the registry, declared once (STYLE.md §6). Pull only: the registry builds
// images from their names, so pushes and deletes are UNSUPPORTED. GET and HEAD share each
// handler. Every RegistryException becomes a registry error response in one place. Outside
// /v2/: the landing page (/) and the recent failures as JSON (/failures).
// https://github.com/opencontainers/distribution-spec/blob/main/spec.md#endpoints
using Nixery.Core.Errors;
using Nixery.Functions.Web;

namespace Nixery.Functions.Registry;

public static class RegistryApi
{
    private static readonly string[] Reads = [HttpMethods.Get, HttpMethods.Head];
    private static readonly string[] Writes = [HttpMethods.Post, HttpMethods.Put, HttpMethods.Patch, HttpMethods.Delete];

    public static WebApplication MapRegistryApi(this WebApplication app)
    {
        app.Use(WriteRegistryErrors);
        app.MapMethods("/v2/{**path}", Reads, (HttpContext context, string? path, ManifestHandler manifests, BlobHandler blobs) =>
        {
            // "/v2" and "/v2/" (the base endpoint) match here too, with an empty path.
            if (string.IsNullOrEmpty(path))
            {
                return Base(context);
            }

            var parsed = RegistryPath.Parse(path);
            return parsed.Kind == ResourceKind.Manifest ? manifests.HandleAsync(context, parsed) : blobs.HandleAsync(context, parsed);
        });
        app.MapMethods("/v2/{**path}", Writes, (HttpContext _) =>
            throw new RegistryException(ErrorCode.Unsupported, "this registry is pull-only: images are built from their names, e.g. docker pull <host>/shell/git"));
        app.MapMethods("/", Reads, (HttpContext context, LandingPageHandler page) => page.HandleAsync(context));
        app.MapMethods("/failures", Reads, (HttpContext context, FailuresHandler failures) => failures.HandleAsync(context));
        return app;
    }

    /// <summary>GET /v2/: 200 with the API version header (set for every answer), always;
    /// clients probe it first.</summary>
    private static Task Base(HttpContext context)
    {
        context.Response.StatusCode = StatusCodes.Status200OK;
        context.Response.ContentType = "application/json";
        context.Response.ContentLength = 2;
        return HttpMethods.IsHead(context.Request.Method) ? Task.CompletedTask : context.Response.WriteAsync("{}", context.RequestAborted);
    }

    private static async Task WriteRegistryErrors(HttpContext context, RequestDelegate next)
    {
        context.Response.Headers["Docker-Distribution-API-Version"] = "registry/2.0";
        try
        {
            await next(context);
        }
        catch (RegistryException error) when (!context.Response.HasStarted)
        {
            await ErrorWriter.WriteAsync(context, error);
        }
    }
}
