// The registry's users: names with salted password hashes (PasswordHash), from the setting
// NIXERY_AUTH_USERS (entries separated by commas or new lines, so that one app setting — on Azure
// a Key Vault reference, which the platform resolves into the setting's value — holds them all)
// and from the file NIXERY_AUTH_USERS_FILE (one entry a line, '#' comments), each entry
//
//   <user>:pbkdf2-sha256$<iterations>$<salt>$<hash>
//
// like an htpasswd file (distribution's htpasswd access controller reads the same shape, with
// bcrypt). Both are read once at start-up; AuthOptions reports every malformed entry then.
//
// PBKDF2 at 600,000 iterations costs a core a few hundred milliseconds, and with NIXERY_AUTH=basic
// every request of a pull (a manifest, then each blob) carries the password again. A successful
// check is therefore remembered for VerifiedFor, keyed by a SHA-256 of user and password: the
// next requests cost a hash lookup. Failures are never remembered (the cache cannot be filled by
// guessing), and an unknown user costs one PBKDF2 run too, so timing does not tell which names exist.
using System.Collections.Concurrent;
using System.Security.Cryptography;
using System.Text;

namespace Nixery.Functions.Auth;

public sealed class RegistryUsers(IReadOnlyDictionary<string, PasswordHash> users, TimeProvider time)
{
    /// <summary>How long a successful check of a user and password is remembered.</summary>
    public static readonly TimeSpan VerifiedFor = TimeSpan.FromMinutes(5);

    private static readonly Lazy<PasswordHash> Decoy = new(() => PasswordHash.Create(Guid.NewGuid().ToString()));

    private readonly ConcurrentDictionary<string, DateTimeOffset> _verified = new(StringComparer.Ordinal);

    public int Count => users.Count;

    /// <summary>True when the user exists and the password is theirs.</summary>
    public bool Verify(string user, string password)
    {
        var key = Convert.ToHexString(SHA256.HashData(Encoding.UTF8.GetBytes(user + "\0" + password)));
        var now = time.GetUtcNow();
        if (_verified.TryGetValue(key, out var until) && until > now)
        {
            return true;
        }

        if (!users.TryGetValue(user, out var hash))
        {
            _ = Decoy.Value.Verify(password);
            return false;
        }

        if (!hash.Verify(password))
        {
            return false;
        }

        _verified[key] = now + VerifiedFor;
        return true;
    }

    /// <summary>Every user of both settings; one sentence per problem into <paramref name="errors"/>.</summary>
    public static Dictionary<string, PasswordHash> Load(AuthOptions options, ICollection<string> errors)
    {
        var users = new Dictionary<string, PasswordHash>(StringComparer.Ordinal);
        if (options.Users is { } inline)
        {
            Parse(inline, AuthOptions.UsersKey, users, errors);
        }

        if (options.UsersFile is { } file)
        {
            string text;
            try
            {
                text = File.ReadAllText(file);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                errors.Add($"{AuthOptions.UsersFileKey} is '{file}', which cannot be read ({e.Message}); it must be a file of user:hash lines.");
                return users;
            }

            Parse(text, $"{AuthOptions.UsersFileKey} ({file})", users, errors);
        }

        return users;
    }

    private static void Parse(string text, string origin, Dictionary<string, PasswordHash> users, ICollection<string> errors)
    {
        var entries = text.Split(['\n', ','], StringSplitOptions.TrimEntries);
        for (var i = 0; i < entries.Length; i++)
        {
            var entry = entries[i];
            if (entry.Length == 0 || entry.StartsWith('#'))
            {
                continue;
            }

            var colon = entry.IndexOf(':', StringComparison.Ordinal);
            var user = colon > 0 ? entry[..colon] : "";
            if (user.Length == 0 || user.Any(char.IsWhiteSpace))
            {
                errors.Add($"{origin}: entry {i + 1} is not <user>:<hash>; each entry is a user name, ':', and a hash that `Nixery.Embedded.dll hash-password` prints.");
                continue;
            }

            if (PasswordHash.TryParse(entry[(colon + 1)..], out var problem) is not { } hash)
            {
                errors.Add($"{origin}: the hash of user '{user}' is wrong: {problem}; make one with `Nixery.Embedded.dll hash-password`.");
            }
            else if (!users.TryAdd(user, hash))
            {
                errors.Add($"{origin}: user '{user}' is listed twice; keep one entry per user.");
            }
        }
    }
}
