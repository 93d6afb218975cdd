// Settings, the one home of their rules. Each part of the registry reads its settings through
// options classes (StorageOptions, SourceOptions, BuildOptions, …) whose properties name their
// setting with [ConfigurationKeyName] and state its rule with [Range] or [AllowedValues]; the
// hosts bind them with AddOptions<T>().BindConfiguration("") (AddSettings). At start-up, before
// anything listens, Check reads every setting's text against its property — a whole number in
// range, one of the allowed words — then binds a copy of each class from what parsed and asks it
// for the rules that span settings (ICheckedSettings). Every problem is one sentence naming the
// setting and what it should be, and all of them are reported at once (Nixery's getConfig
// does the same): the binder alone would stop at the first value it cannot convert.
// Values are trimmed and a blank one counts as unset (Normalise), so the class's default stands.
using System.ComponentModel.DataAnnotations;
using System.Globalization;
using System.Reflection;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace Nixery.Core.Options;

/// <summary>An options class whose settings have rules beyond each property's attributes.</summary>
public interface ICheckedSettings
{
    /// <summary>Adds one sentence per problem (a file that must exist, exactly one of two
    /// settings, a list's syntax). Called on a copy bound from settings that all parsed.</summary>
    void Check(ICollection<string> errors);
}

/// <summary>The unit a whole-number setting counts in, named in its error sentence.</summary>
[AttributeUsage(AttributeTargets.Property)]
public sealed class UnitAttribute(string unit) : Attribute
{
    public string Unit { get; } = unit;
}

public static class Settings
{
    /// <summary>Every start-up error of these options classes' settings, one sentence each.</summary>
    public static IReadOnlyList<string> Check(IConfiguration config, IEnumerable<Type> optionTypes)
    {
        var errors = new List<string>();
        foreach (var type in optionTypes)
        {
            var wrong = new HashSet<string>(StringComparer.Ordinal);
            foreach (var (property, key) in SettingsOf(type))
            {
                if (config[key] is { } text && CheckText(property, key, text) is { } error)
                {
                    errors.Add(error);
                    wrong.Add(key);
                }
            }

            // Bound from the settings that parsed (the others keep their defaults), so the
            // class's own rules are checked too and every problem is reported at once.
            var parsed = new ConfigurationBuilder().AddInMemoryCollection(
                    SettingsOf(type).Where(s => !wrong.Contains(s.Key) && config[s.Key] is not null).Select(s => new KeyValuePair<string, string?>(s.Key, config[s.Key])))
                .Build();
            (Bind(type, parsed) as ICheckedSettings)?.Check(errors);
        }

        // Two classes may read one setting (the connection string): say it once.
        return [.. errors.Distinct(StringComparer.Ordinal)];
    }

    /// <summary>The start-up error text, or null when every setting is right.</summary>
    public static string? Problems(IConfiguration config, IEnumerable<Type> optionTypes) =>
        Check(config, optionTypes) is { Count: > 0 } errors ? "invalid configuration:\n  " + string.Join("\n  ", errors) : null;

    /// <summary>A new <typeparamref name="T"/> bound from the configuration as the hosts bind it
    /// (AddSettings), for composition code that needs a value before the host is built.</summary>
    public static T Bind<T>(IConfiguration config)
        where T : class, new() => (T)Bind(typeof(T), config);

    /// <summary>Binds <typeparamref name="T"/> from the configuration's root, as its properties
    /// name their settings, and checks it again when the host starts.</summary>
    public static OptionsBuilder<T> AddSettings<T>(this IServiceCollection services)
        where T : class
    {
        services.AddOptions<T>()
            .BindConfiguration(string.Empty)
            .PostConfigure<IConfiguration>(KeepDefaultsOfUnset)
            .Validate(
                options => options is not ICheckedSettings checkedSettings || Errors(checkedSettings).Count == 0,
                $"the settings of {typeof(T).Name} are wrong; they are checked before start-up (Settings.Check), so this means they changed since")
            .ValidateOnStart();
        services.AddSingleton(sp => sp.GetRequiredService<IOptions<T>>().Value);
        return services.AddOptions<T>();
    }

    /// <summary>Settings as a person means them: a later source gives each value trimmed, and a
    /// blank one as unset (null), so binding keeps the class's default (an environment variable
    /// set to "" or to spaces is a common slip). Call it after every other source is added.</summary>
    public static IConfigurationBuilder Normalise(this IConfigurationManager config)
    {
        var changed = config.AsEnumerable()
            .Where(e => e.Value is not null && e.Value.Trim() != e.Value || e.Value is { Length: 0 })
            .Select(e => new KeyValuePair<string, string?>(e.Key, string.IsNullOrWhiteSpace(e.Value) ? null : e.Value!.Trim()))
            .ToList();
        return changed.Count == 0 ? config : config.AddInMemoryCollection(changed);
    }

    private static object Bind(Type type, IConfiguration config)
    {
        var instance = Activator.CreateInstance(type)!;
        config.Bind(instance);
        KeepDefaultsOfUnset(instance, config);
        return instance;
    }

    /// <summary>A setting made unset by Normalise (a blank value) is a key whose value is null,
    /// which the binder writes into the property as null or 0: put the class's default back.</summary>
    private static void KeepDefaultsOfUnset(object instance, IConfiguration config)
    {
        object? defaults = null;
        foreach (var (property, key) in SettingsOf(instance.GetType()))
        {
            if (config[key] is null)
            {
                defaults ??= Activator.CreateInstance(instance.GetType())!;
                property.SetValue(instance, property.GetValue(defaults));
            }
        }
    }

    /// <summary>Each setting a class reads: the property and its configuration key.</summary>
    public static IEnumerable<(PropertyInfo Property, string Key)> SettingsOf(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance)
            .Where(p => p.SetMethod is { IsPublic: true })
            .Select(p => (Property: p, Key: p.GetCustomAttribute<ConfigurationKeyNameAttribute>()?.Name))
            .Where(s => s.Key is not null)
            .Select(s => (s.Property, s.Key!));

    private static List<string> Errors(ICheckedSettings settings)
    {
        var errors = new List<string>();
        settings.Check(errors);
        return errors;
    }

    private static string? CheckText(PropertyInfo property, string key, string text)
    {
        var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
        if (type == typeof(int) || type == typeof(long))
        {
            // long for byte counts (NIXERY_MAX_IMAGE_BYTES): their Range gives its bounds as
            // text (RangeAttribute(typeof(long), "0", "…")), so they are read the same way.
            var range = property.GetCustomAttribute<RangeAttribute>();
            var unit = property.GetCustomAttribute<UnitAttribute>() is { } u ? " of " + u.Unit : "";
            var ok = long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
                && (type == typeof(long) || value is >= int.MinValue and <= int.MaxValue)
                && (range is null || (value >= Convert.ToInt64(range.Minimum, CultureInfo.InvariantCulture) && value <= Convert.ToInt64(range.Maximum, CultureInfo.InvariantCulture)));
            return ok ? null : range is null
                ? $"{key} is '{text}'; it must be a whole number{unit}."
                : $"{key} is '{text}'; it must be a whole number{unit} from {range.Minimum} to {range.Maximum}.";
        }

        if (property.GetCustomAttribute<AllowedValuesAttribute>() is { } allowed && !allowed.Values.Contains(text.Trim()))
        {
            return $"{key} is '{text}'; it must be {string.Join(" or ", allowed.Values.Select(v => $"'{v}'"))}.";
        }

        return null;
    }
}
