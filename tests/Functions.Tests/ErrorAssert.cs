// Checks of the registry error body {"errors":[{"code","message",…}]} that every 4xx carries.
using System.Net;
using System.Text.Json;

namespace Nixery.Functions.Tests;

internal static class ErrorAssert
{
    /// <summary>Asserts the status and the single error code; returns the error's message.</summary>
    public static async Task<string> HasErrorAsync(HttpResponseMessage response, HttpStatusCode status, string code)
    {
        var body = await response.Content.ReadAsStringAsync();
        Assert.True(status == response.StatusCode, $"expected {(int)status} {code}, got {(int)response.StatusCode}: {body}");
        Assert.Equal("application/json", response.Content.Headers.ContentType?.MediaType);
        return CodeAndMessage(body, code);
    }

    /// <summary>A HEAD answer: the status of the GET, and no body.</summary>
    public static async Task HasNoBodyAsync(HttpResponseMessage response, HttpStatusCode status)
    {
        Assert.Equal(status, response.StatusCode);
        Assert.Empty(await response.Content.ReadAsByteArrayAsync());
    }

    public static string CodeAndMessage(string body, string code)
    {
        using var document = JsonDocument.Parse(body);
        var errors = document.RootElement.GetProperty("errors");
        Assert.Equal(JsonValueKind.Array, errors.ValueKind);
        var error = Assert.Single(errors.EnumerateArray());
        Assert.Equal(code, error.GetProperty("code").GetString());
        var message = error.GetProperty("message").GetString();
        Assert.False(string.IsNullOrWhiteSpace(message));
        return message!;
    }
}
