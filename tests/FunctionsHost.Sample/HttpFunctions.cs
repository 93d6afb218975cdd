// The sample's HTTP functions, each exercising one thing the host's HTTP front must carry
// through the ASP.NET Core integration: a streamed body with headers (GET and HEAD on a
// catch-all route), a redirect from an IActionResult, a request body echoed back, and a
// function that throws before it answers.
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Mvc;
using Microsoft.Azure.Functions.Worker;

namespace Nixery.FunctionsHost.Sample;

public static class HttpFunctions
{
    /// <summary>"file:{path}\n" with X-Path and an explicit length; with ?release=&lt;file&gt;, writes
    /// "first\n", flushes, waits until that file exists, then writes "second\n" (no length).</summary>
    [Function("files")]
    public static async Task Files([HttpTrigger(AuthorizationLevel.Anonymous, "get", "head", Route = "files/{*path}")] HttpRequest request, string? path)
    {
        var response = request.HttpContext.Response;
        response.Headers["X-Path"] = path ?? "";
        response.ContentType = "text/plain; charset=utf-8";
        if (request.Query["status"] is { Count: > 0 } status)
        {
            response.StatusCode = int.Parse(status.ToString(), System.Globalization.CultureInfo.InvariantCulture);
        }

        if (request.Query["release"] is { Count: > 0 } release)
        {
            await response.WriteAsync("first\n");
            await response.Body.FlushAsync();
            await Signals.WaitForFileAsync(release.ToString(), request.HttpContext.RequestAborted);
            await response.WriteAsync("second\n");
            return;
        }

        var body = $"file:{path}\n";
        response.ContentLength = System.Text.Encoding.UTF8.GetByteCount(body);
        await response.WriteAsync(body);
    }

    [Function("redirect")]
    public static IActionResult Redirect([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "redirect/{*target}")] HttpRequest request, string target) =>
        new RedirectResult($"/files/{target}", permanent: false, preserveMethod: true);

    /// <summary>The body back with its content type, and what the app saw of the request.</summary>
    [Function("echo")]
    public static async Task Echo([HttpTrigger(AuthorizationLevel.Anonymous, "post", Route = "echo")] HttpRequest request)
    {
        using var body = new MemoryStream();
        await request.Body.CopyToAsync(body);
        var response = request.HttpContext.Response;
        response.StatusCode = StatusCodes.Status201Created;
        response.ContentType = request.ContentType ?? "application/octet-stream";
        response.Headers["X-Echo-Method"] = request.Method;
        response.Headers["X-Echo-Query"] = request.QueryString.Value ?? "";
        response.Headers["X-Echo-Host"] = request.Host.Value ?? "";
        response.Headers["X-Echo-Header"] = request.Headers["X-Sample"].ToString();
        await response.Body.WriteAsync(body.ToArray());
    }

    [Function("boom")]
    public static Task Boom([HttpTrigger(AuthorizationLevel.Anonymous, "get", Route = "boom")] HttpRequest request) =>
        throw new InvalidOperationException("boom before any byte of the answer");
}
