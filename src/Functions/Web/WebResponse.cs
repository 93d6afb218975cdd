// The answer of the pages outside /v2/ (the landing page, /failures, the image pages): the
// whole body is made first, so GET and HEAD send the same headers and Content-Length, and
// HEAD no body. Never cached: the builds and failures they show change by the second.
// HTML pages carry their Content-Security-Policy (Html.ContentSecurityPolicy) and nosniff, so
// a browser never reads a JSON body as HTML.
using System.Text;

namespace Nixery.Functions.Web;

internal static class WebResponse
{
    public static async Task WriteAsync(HttpContext context, string contentType, byte[] body, int status = StatusCodes.Status200OK)
    {
        var response = context.Response;
        response.StatusCode = status;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        response.Headers.CacheControl = "no-cache";
        response.Headers.XContentTypeOptions = "nosniff";
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
    }

    /// <summary>An HTML page made by Html.Page, with <paramref name="script"/> (the page's only
    /// inline script, if any) allowed by the policy.</summary>
    public static Task WriteHtmlAsync(HttpContext context, string page, string? script = null, int status = StatusCodes.Status200OK)
    {
        context.Response.Headers.ContentSecurityPolicy = Html.ContentSecurityPolicy(script);
        return WriteAsync(context, "text/html; charset=utf-8", Encoding.UTF8.GetBytes(page), status);
    }
}
