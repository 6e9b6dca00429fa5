using System.Globalization;
using System.Text;
using System.Text.RegularExpressions;

namespace Harness.Runtimes.Devices.Adb;

/// <summary>
/// The device-side shell text for each adapter command. Arguments that reach the shell are
/// single-quoted or checked against a strict pattern, so no input can run a second command.
/// </summary>
internal static partial class AdbShellCommands
{
    public static string Tap(int x, int y) => string.Create(CultureInfo.InvariantCulture, $"input tap {x} {y}");

    public static string Swipe(int x1, int y1, int x2, int y2, int durationMs) =>
        string.Create(CultureInfo.InvariantCulture, $"input swipe {x1} {y1} {x2} {y2} {Math.Max(0, durationMs)}");

    /// <summary><c>input text</c> reads <c>%s</c> as a space and stops at a real one, so spaces become <c>%s</c>.</summary>
    public static string Text(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        return "input text " + Quote(text.Replace(" ", "%s", StringComparison.Ordinal));
    }

    public static string Key(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        var trimmed = key.Trim().ToUpperInvariant();
        if (!KeyPattern().IsMatch(trimmed))
        {
            throw new DeviceException(DeviceErrorKind.Failed, $"'{key}' is not a key code: use a name like KEYCODE_HOME or HOME, or a number.");
        }
        return "input keyevent " + (char.IsAsciiDigit(trimmed[0]) || trimmed.StartsWith("KEYCODE_", StringComparison.Ordinal) ? trimmed : "KEYCODE_" + trimmed);
    }

    public static string Launch(string package, string? activity)
    {
        if (!PackagePattern().IsMatch(package ?? ""))
        {
            throw new DeviceException(DeviceErrorKind.Failed, $"'{package}' is not an Android package name (like com.example.app).");
        }
        if (activity is null)
        {
            return $"monkey -p {package} -c android.intent.category.LAUNCHER 1";
        }
        if (!ActivityPattern().IsMatch(activity))
        {
            throw new DeviceException(DeviceErrorKind.Failed, $"'{activity}' is not an activity name (like .MainActivity or com.example.app.MainActivity).");
        }
        return $"am start -n {package}/{activity}";
    }

    public static string OpenUrl(string url)
    {
        ArgumentNullException.ThrowIfNull(url);
        return "am start -a android.intent.action.VIEW -d " + Quote(url);
    }

    /// <summary>POSIX single quotes: everything literal; a quote itself is closed, escaped and reopened.</summary>
    public static string Quote(string value)
    {
        var quoted = new StringBuilder(value.Length + 2).Append('\'');
        foreach (var c in value)
        {
            quoted.Append(c == '\'' ? "'\\''" : c);
        }
        return quoted.Append('\'').ToString();
    }

    [GeneratedRegex("^([A-Z0-9_]+)$")]
    private static partial Regex KeyPattern();

    [GeneratedRegex(@"^[A-Za-z][A-Za-z0-9_]*(\.[A-Za-z][A-Za-z0-9_]*)+$")]
    private static partial Regex PackagePattern();

    [GeneratedRegex(@"^[A-Za-z0-9_.$]+$")]
    private static partial Regex ActivityPattern();
}
