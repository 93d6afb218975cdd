// The order in which the host tries HTTP routes: most specific first.
using Microsoft.AspNetCore.Routing.Template;

namespace Nixery.FunctionsHost.Tests;

public sealed class FunctionRoutesTests
{
    [Fact]
    public void LiteralsComeBeforeParametersAndLongerBeforeShorter()
    {
        string[] templates = ["{ignored:maxlength(0)?}", "v2/{*path}", "v2", "failures", "v2/_catalog", "{name}/{id:int}", "{name}/{id}"];

        var ordered = templates.OrderBy(TemplateParser.Parse, Comparer<RouteTemplate>.Create(FunctionRoutes.Compare)).ToArray();

        Assert.Equal(["failures", "v2/_catalog", "v2/{*path}", "v2", "{ignored:maxlength(0)?}", "{name}/{id:int}", "{name}/{id}"], ordered);
    }

    [Theory]
    [InlineData("", "v2/{*path}", "v2/{*path}")]
    [InlineData("api", "v2/{*path}", "api/v2/{*path}")]
    public void TemplateIsPrefixSlashRoute(string prefix, string route, string expected) =>
        Assert.Equal(expected, FunctionRoutes.Template(prefix, route));
}
