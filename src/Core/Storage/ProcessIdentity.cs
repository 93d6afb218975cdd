// Tells a live process from a dead one whose PID may have been reused, so that a lease held
// by a process that is gone on this host can be taken over at once instead of after its
// expiry (StorageLease). A PID alone is not an identity: Linux reuses PIDs (pid_max wraps).
// The pair (boot, start time) is: /proc/<pid>/stat field 22 "starttime" is the time the
// process started after boot, in clock ticks (proc(5)), fixed for the process's life, and
// /proc/sys/kernel/random/boot_id changes at every boot (random(4)), so a record written
// before a reboot never matches a process after it.
//
// Limits: "same host" is Environment.MachineName; two containers that share a host name but
// not a PID namespace would each judge the other's PIDs dead. A wrong "dead" costs a second
// packing of the same bytes (what a lease guards is safe to do twice), never a wrong image.
// Off Linux (no /proc) every identity is null and only expiry applies.
namespace Nixery.Core.Storage;

public static class ProcessIdentity
{
    private static readonly string? BootId = ReadBootId();

    /// <summary>This machine's name, as lease records carry it.</summary>
    public static string Host { get; } = Environment.MachineName;

    /// <summary>This process's identity ("boot:starttime"), or null off Linux.</summary>
    public static string? Current { get; } = Of(Environment.ProcessId);

    /// <summary>The identity of the running process <paramref name="pid"/> on this host, or
    /// null if none runs under that PID (or /proc cannot tell).</summary>
    public static string? Of(int pid)
    {
        if (BootId is null)
        {
            return null;
        }

        string stat;
        try
        {
            stat = File.ReadAllText($"/proc/{pid}/stat");
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }

        // "pid (comm) state ppid …": comm may hold spaces and parentheses, so fields are
        // counted after the last ')'; starttime is field 22, the 20th after comm (proc(5)).
        var fields = stat[(stat.LastIndexOf(')') + 1)..].Split(' ', StringSplitOptions.RemoveEmptyEntries);
        return fields.Length >= 20 ? $"{BootId}:{fields[19]}" : null;
    }

    /// <summary>True if the record names a process on this host that no longer runs: its PID is
    /// free, or taken by a process that started at another time (a reused PID).</summary>
    public static bool IsGone(string? host, int? pid, string? identity) =>
        host == Host && pid is { } p && identity is not null && Current is not null && Of(p) != identity;

    private static string? ReadBootId()
    {
        try
        {
            return File.ReadAllText("/proc/sys/kernel/random/boot_id").Trim();
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }
}
