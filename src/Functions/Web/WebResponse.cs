// The answer of the pages outside /v2/ (the landing page, /failures): the whole body is
// made first, so GET and HEAD send the same headers and Content-Length, and HEAD no body.
// Never cached: the failures they show change by the minute.
namespace Nixery.Functions.Web;

internal static class WebResponse
{
    public static async Task WriteAsync(HttpContext context, string contentType, byte[] body)
    {
        var response = context.Response;
        response.StatusCode = StatusCodes.Status200OK;
        response.ContentType = contentType;
        response.ContentLength = body.Length;
        response.Headers.CacheControl = "no-cache";
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
    }
}
