// `Nixery.Embedded.dll hash-password [user]`: reads a password from standard input (one line;
// typed at a terminal it is not echoed) and prints its hash for NIXERY_AUTH_USERS or a line of
// NIXERY_AUTH_USERS_FILE (`user:hash` when a user is named). The password never appears on a
// command line, where other users' `ps` and the shell's history would see it.
using System.Text;
using Nixery.Functions.Auth;

namespace Nixery.Embedded;

public static class HashPasswordCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 1 || args is [var name] && (name.Length == 0 || name.Contains(':', StringComparison.Ordinal) || name.Any(char.IsWhiteSpace)))
        {
            await Console.Error.WriteLineAsync("usage: hash-password [user]   (the password is read from standard input; a user name has no ':' or spaces)");
            return 2;
        }

        var password = Console.IsInputRedirected ? await Console.In.ReadLineAsync() : ReadHidden();
        if (string.IsNullOrEmpty(password))
        {
            await Console.Error.WriteLineAsync("hash-password: no password on standard input");
            return 2;
        }

        var hash = PasswordHash.Create(password).ToString();
        await Console.Out.WriteLineAsync(args is [var user] ? $"{user}:{hash}" : hash);
        return 0;
    }

    private static string ReadHidden()
    {
        Console.Error.Write("password: ");
        var text = new StringBuilder();
        for (var key = Console.ReadKey(intercept: true); key.Key != ConsoleKey.Enter; key = Console.ReadKey(intercept: true))
        {
            if (key.Key == ConsoleKey.Backspace)
            {
                text.Length = Math.Max(0, text.Length - 1);
            }
            else if (!char.IsControl(key.KeyChar))
            {
                text.Append(key.KeyChar);
            }
        }

        Console.Error.WriteLine();
        return text.ToString();
    }
}
