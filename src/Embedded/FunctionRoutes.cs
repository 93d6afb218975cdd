// Hosts the HTTP functions outside the Functions host. Each [Function] method of a function
// class with an [HttpTrigger] HttpRequest parameter is mapped on this app's routes with the
// trigger's own route template and methods — the same attributes the Functions SDK writes
// into functions.metadata, so the routes are declared once and both hosts call the same
// method. As the isolated worker does, the class is created per request from the request's
// services (unless the method is static), and the IResult the method returns is executed on
// the response. The host's route
// prefix is host.json's ("" here), so templates are used as they are.
using System.Reflection;
using Microsoft.Azure.Functions.Worker;

namespace Nixery.Embedded;

public static class FunctionRoutes
{
    /// <summary>Maps every HTTP function of <typeparamref name="TFunctions"/>; returns their names.</summary>
    public static IReadOnlyList<string> MapHttpFunctions<TFunctions>(this IEndpointRouteBuilder app)
        where TFunctions : class
    {
        var mapped = new List<string>();
        foreach (var method in typeof(TFunctions).GetMethods(BindingFlags.Public | BindingFlags.Instance | BindingFlags.Static))
        {
            if (method.GetCustomAttribute<FunctionAttribute>() is not { } function)
            {
                continue;
            }

            var parameters = method.GetParameters();
            var trigger = parameters.Length == 1 && parameters[0].ParameterType == typeof(HttpRequest) && method.ReturnType == typeof(IResult)
                ? parameters[0].GetCustomAttribute<HttpTriggerAttribute>()
                : null;
            if (trigger is null)
            {
                throw new InvalidOperationException(
                    $"function {function.Name} ({typeof(TFunctions).Name}.{method.Name}) must take one [HttpTrigger] HttpRequest and return IResult to be hosted here");
            }

            var methods = (trigger.Methods ?? []).Select(m => m.ToUpperInvariant()).ToArray();
            app.MapMethods(trigger.Route ?? function.Name, methods, (HttpContext context) =>
                    (IResult)method.Invoke(method.IsStatic ? null : ActivatorUtilities.CreateInstance<TFunctions>(context.RequestServices), [context.Request])!)
                .WithName(function.Name);
            mapped.Add(function.Name);
        }

        return mapped;
    }
}
