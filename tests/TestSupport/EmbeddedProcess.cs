// The embedded default as a separate process, for tests that must kill it or load it from
// outside (crash recovery, floods): its assembly, a free loopback port, and the settings every
// such test starts it with (the offline package set, the default build wait of 20 s, so a pull
// that outlasts it meets 429 and the client retries).
using System.Globalization;
using System.Net;
using System.Net.Sockets;

namespace Nixery.TestSupport;

public static class EmbeddedProcess
{
    public static string Assembly => ServiceProcess.AssemblyOf("Embedded", "Nixery.Embedded.dll");

    /// <summary>A loopback port nothing listens on now.</summary>
    public static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }

    /// <summary>The settings of an embedded process on <paramref name="port"/> storing under <paramref name="storage"/>; a test adds its own.</summary>
    public static Dictionary<string, string> Settings(string storage, int port) => new()
    {
        ["STORAGE_PATH"] = storage,
        ["PORT"] = port.ToString(CultureInfo.InvariantCulture),
        ["NIXERY_PKGS_PATH"] = RepoPaths.PackageSetDir,
        ["NIXERY_NIX_PATH"] = RepoPaths.NixDir,
        ["NIX_TIMEOUT"] = "600",
        ["NIXERY_BUILD_WAIT"] = "20",
    };
}
