// The one writer of registry error responses: status from the registered ErrorCode, the
// {"errors":[…]} body (none for HEAD), and any headers the error carries (Retry-After).
using System.Text.Json;
using Nixery.Core.Errors;
using Nixery.Core.Manifests;

namespace Nixery.Functions.Registry;

public static class ErrorWriter
{
    public static async Task WriteAsync(HttpContext context, RegistryException error)
    {
        var response = context.Response;
        response.StatusCode = error.Code.Status;
        foreach (var (name, value) in error.Headers)
        {
            response.Headers[name] = value;
        }

        var body = JsonSerializer.SerializeToUtf8Bytes(
            new ErrorBody([new ErrorEntry(error.Code.Code, error.Message, error.Detail)]), CoreJson.Default.ErrorBody);
        response.ContentType = "application/json";
        response.ContentLength = body.Length;
        if (!HttpMethods.IsHead(context.Request.Method))
        {
            await response.Body.WriteAsync(body, context.RequestAborted);
        }
    }
}
