using System.Globalization;
using System.Text;

namespace Harness.Runtimes.Devices.Simulator;

/// <summary>
/// The few shell commands a simulated device understands: what the adb adapter sends for
/// tap, swipe, text, key, launch and open_url, plus getprop, echo and pm list packages.
/// Anything else succeeds with no output. Runs under the device's lock.
/// </summary>
internal static class SimulatedShell
{
    private static readonly string[] Packages = ["com.android.settings", "com.android.chrome", "com.android.launcher3", "com.google.android.gms", "com.example.app"];

    public static string Run(SimulatedFarm farm, SimulatedDevice device, string command)
    {
        var words = Tokenize(command).ToArray();
        return words switch
        {
            ["getprop", "ro.product.model"] => device.Model + "\n",
            ["getprop", "ro.serialno"] => device.Serial + "\n",
            ["getprop", "sys.boot_completed"] => "1\n",
            ["getprop", "ro.kernel.qemu"] => device.IsEmulator ? "1\n" : "\n",
            ["getprop", ..] => "\n",
            ["echo", .. var rest] => string.Join(' ', rest) + "\n",
            ["pm", "list", "packages", ..] => string.Concat(Packages.Select(p => $"package:{p}\n")),
            ["input", "tap", var x, var y] => Do(() => device.Touched(Int(x), Int(y))),
            ["input", "swipe", _, _, var x2, var y2, ..] => Do(() => device.Touched(Int(x2), Int(y2))),
            ["input", "text", var text] => Do(() => { device.Typed += text.Replace("%s", " ", StringComparison.Ordinal); device.ScreenVersion++; }),
            ["input", "keyevent", "KEYCODE_HOME" or "HOME" or "3"] => Do(device.GoHome),
            ["input", "keyevent", _] => Do(() => device.ScreenVersion++),
            ["monkey", "-p", var package, ..] => Do(() => Launch(device, package)),
            ["am", "start", "-n", var component] => Do(() => Launch(device, component.Split('/')[0])),
            ["am", "start", "-a", "android.intent.action.VIEW", "-d", var url] => Do(() => OpenUrl(device, url)),
            ["input", ..] or ["am", ..] => throw new DeviceException(DeviceErrorKind.Failed, $"{device.Serial}: bad arguments: {command}"),
            ["reboot", ..] => Do(() => farm.Reboot(device)),
            _ => "",
        };
    }

    private static string Do(Action action)
    {
        action();
        return "";
    }

    private static void Launch(SimulatedDevice device, string package)
    {
        device.Foreground = package;
        device.Url = null;
        device.ScreenVersion++;
    }

    private static void OpenUrl(SimulatedDevice device, string url)
    {
        device.Foreground = "com.android.chrome";
        device.Url = url;
        device.ScreenVersion++;
    }

    private static int Int(string word) =>
        int.TryParse(word, NumberStyles.Integer, CultureInfo.InvariantCulture, out var value)
            ? value
            : throw new DeviceException(DeviceErrorKind.Failed, $"Not a number: '{word}'.");

    /// <summary>Splits like sh for the quoting the adb adapter uses: single quotes, double quotes, backslash.</summary>
    internal static List<string> Tokenize(string command)
    {
        var words = new List<string>();
        var word = new StringBuilder();
        var inWord = false;
        for (var i = 0; i < command.Length; i++)
        {
            var c = command[i];
            switch (c)
            {
                case ' ' or '\t' or '\n':
                    if (inWord)
                    {
                        words.Add(word.ToString());
                        word.Clear();
                        inWord = false;
                    }
                    break;
                case '\'':
                    inWord = true;
                    var close = command.IndexOf('\'', i + 1);
                    close = close < 0 ? command.Length : close;
                    word.Append(command, i + 1, close - i - 1);
                    i = close;
                    break;
                case '"':
                    inWord = true;
                    for (i++; i < command.Length && command[i] != '"'; i++)
                    {
                        if (command[i] == '\\' && i + 1 < command.Length)
                        {
                            i++;
                        }
                        word.Append(command[i]);
                    }
                    break;
                case '\\' when i + 1 < command.Length:
                    inWord = true;
                    word.Append(command[++i]);
                    break;
                default:
                    inWord = true;
                    word.Append(c);
                    break;
            }
        }
        if (inWord)
        {
            words.Add(word.ToString());
        }
        return words;
    }
}
