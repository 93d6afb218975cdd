// The host's table of HTTP routes: one route per HTTP-triggered function, its template
// "<routePrefix>/<route>" (the route alone when the prefix is empty; the function name when the
// function declares no route), an httpMethod constraint when it lists methods, ASP.NET Core
// route templates with inline constraints ({ignored:maxlength(0)?}). A request whose path or
// method matches no route is answered 404 (a method mismatch is a non-match, not a 405).
// Routes are tried most specific first (Azure/azure-webjobs-sdk-extensions
// src/WebJobs.Extensions.Http/Routing/WebJobsRouteBuilder.cs, RouteComparison), segment by
// segment: a literal before a parameter, a parameter with more inline constraints before one
// with fewer, literals in ordinal-ignore-case order, and a longer template before its prefix.
// Host: src/WebJobs.Script.WebHost/WebScriptHostHttpRoutesManager.cs.
using Microsoft.AspNetCore.Http;
using Microsoft.AspNetCore.Routing;
using Microsoft.AspNetCore.Routing.Constraints;
using Microsoft.AspNetCore.Routing.Template;

namespace Nixery.FunctionsHost;

internal static class FunctionRoutes
{
    public static string Template(string routePrefix, string route) =>
        string.IsNullOrEmpty(routePrefix) ? route : $"{routePrefix}/{route}";

    /// <summary>The router: each function's route, most specific first, calling
    /// <paramref name="handle"/> with the function that matched.</summary>
    public static IRouter Build(IEnumerable<EmulatedFunction> functions, string routePrefix, IInlineConstraintResolver constraints, Func<HttpContext, EmulatedFunction, Task> handle)
    {
        var routes = functions
            .Where(f => f.IsHttp)
            .Select(f => (Function: f, Template: Template(routePrefix, f.Route!)))
            .OrderBy(r => TemplateParser.Parse(r.Template), Comparer<RouteTemplate>.Create(Compare))
            .ToList();
        var collection = new RouteCollection();
        foreach (var (function, template) in routes)
        {
            var methods = new Dictionary<string, object>();
            if (function.Methods.Count > 0)
            {
                methods["httpMethod"] = new HttpMethodRouteConstraint([.. function.Methods]);
            }

            collection.Add(new Route(new RouteHandler(context => handle(context, function)), function.Name, template, null, methods, null, constraints));
        }

        return collection;
    }

    /// <summary>Negative when <paramref name="x"/> is tried before <paramref name="y"/>.</summary>
    public static int Compare(RouteTemplate x, RouteTemplate y)
    {
        for (var i = 0; i < x.Segments.Count; i++)
        {
            if (y.Segments.Count <= i)
            {
                return -1;
            }

            var a = x.Segments[i].Parts[0];
            var b = y.Segments[i].Parts[0];
            if (a.IsParameter != b.IsParameter)
            {
                return a.IsParameter ? 1 : -1;
            }

            var order = a.IsParameter
                ? b.InlineConstraints.Count().CompareTo(a.InlineConstraints.Count())
                : string.Compare(a.Text, b.Text, StringComparison.OrdinalIgnoreCase);
            if (order != 0)
            {
                return order;
            }
        }

        return y.Segments.Count > x.Segments.Count ? 1 : 0;
    }
}
