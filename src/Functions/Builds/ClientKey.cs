// Who a request comes from, for the limits that are per client (BuildAdmission, TokenHandler):
// the user it authenticated as (Auth/RegistryAuth.cs), else its network address. The address is
// the connection's remote address unless NIXERY_TRUST_FORWARDED_FOR=on, which takes the last
// address of X-Forwarded-For instead: the one the proxy in front of the app saw, which a client
// cannot forge (it can only prepend addresses). Off by default, since without a proxy that
// writes the header any client could pick its own partition. Behind the Azure Functions host
// the worker's remote address is the host's own, so every client would be one; the host
// forwards with YARP's default transform, which writes X-Forwarded-For with the address the
// host was connected from (tests/FunctionsHost/Http/HttpFront.cs emulates it), so there it
// must be on. Whether that address is the client's or the Azure front end's was not checked
// on Azure (README, "Limits"); per-user limits, with authentication on, do not depend on it.
using System.Net;
using Nixery.Functions.Auth;

namespace Nixery.Functions.Builds;

public static class ClientKey
{
    /// <summary>"user:&lt;name&gt;" or "address:&lt;ip&gt;" ("address:unknown" when the server has none).</summary>
    public static string Of(HttpContext context, LimitOptions limits)
    {
        if (RegistryAuth.UserOf(context) is { } user)
        {
            return "user:" + user;
        }

        return "address:" + (Address(context, limits)?.ToString() ?? "unknown");
    }

    private static IPAddress? Address(HttpContext context, LimitOptions limits)
    {
        if (limits.TrustsForwardedFor
            && context.Request.Headers["X-Forwarded-For"].ToString().Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries) is { Length: > 0 } hops
            && (IPEndPoint.TryParse(hops[^1], out var endpoint) || IPEndPoint.TryParse(hops[^1].Trim('[', ']'), out endpoint)))
        {
            return Normal(endpoint.Address);
        }

        return context.Connection.RemoteIpAddress is { } remote ? Normal(remote) : null;
    }

    /// <summary>An IPv4 client seen through a dual-stack socket (::ffff:1.2.3.4) is that IPv4 client.</summary>
    private static IPAddress Normal(IPAddress address) => address.IsIPv4MappedToIPv6 ? address.MapToIPv4() : address;
}
