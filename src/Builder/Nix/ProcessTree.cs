// Kills a process and all its descendants on Linux. Process.Kill(entireProcessTree: true)
// is not enough for Nix: it recognises a child only if the child started strictly later
// than its parent at clock-tick resolution, and nix-store forks its builder within the same
// tick often enough that `sleep` in a builder outlived the test that timed it out. Here
// every process found is stopped (SIGSTOP) before its children are read from /proc, so none
// can fork or be re-parented to init unseen, and then all of them are killed.
using System.Runtime.InteropServices;

namespace Nixery.Builder.Nix;

internal static class ProcessTree
{
    private const int SigKill = 9;
    private const int SigStop = 19;

    public static void Kill(int root)
    {
        var found = new List<int>();
        var pending = new Queue<int>();
        pending.Enqueue(root);
        while (pending.Count > 0)
        {
            var pid = pending.Dequeue();
            if (found.Contains(pid) || SendSignal(pid, SigStop) != 0)
            {
                continue;
            }

            found.Add(pid);
            foreach (var child in ChildrenOf(pid))
            {
                pending.Enqueue(child);
            }
        }

        foreach (var pid in found)
        {
            _ = SendSignal(pid, SigKill);
        }
    }

    private static List<int> ChildrenOf(int parent)
    {
        var children = new List<int>();
        foreach (var dir in Directory.EnumerateDirectories("/proc"))
        {
            if (!int.TryParse(Path.GetFileName(dir), out var pid))
            {
                continue;
            }

            try
            {
                // /proc/<pid>/stat: "pid (comm) state ppid …"; comm may hold spaces and parentheses.
                var stat = File.ReadAllText(Path.Combine(dir, "stat"));
                var fields = stat[(stat.LastIndexOf(')') + 2)..].Split(' ');
                if (fields.Length > 1 && int.TryParse(fields[1], out var ppid) && ppid == parent)
                {
                    children.Add(pid);
                }
            }
            catch (IOException)
            {
                // The process exited while we looked.
            }
            catch (UnauthorizedAccessException)
            {
            }
        }

        return children;
    }

    [DllImport("libc", EntryPoint = "kill", SetLastError = true)]
    private static extern int SendSignal(int pid, int signal);
}
