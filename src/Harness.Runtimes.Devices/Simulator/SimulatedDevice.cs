using Harness.Contracts.Nodes;

namespace Harness.Runtimes.Devices.Simulator;

/// <summary>
/// One simulated device: identity, faults, availability and a tiny screen state. Callers hold
/// <see cref="Gate"/> while they read or change anything but the in-flight counters.
/// </summary>
internal sealed class SimulatedDevice(string serial, string model, bool isEmulator, (byte R, byte G, byte B) colour)
{
    public const int ScreenWidth = 180;
    public const int ScreenHeight = 320;

    private int _inFlight;
    private int _maxInFlight;

    public Lock Gate { get; } = new();
    public string Serial { get; } = serial;
    public string Model { get; } = model;
    public bool IsEmulator { get; } = isEmulator;
    public (byte R, byte G, byte B) Colour { get; } = colour;

    public DeviceFaults Faults { get; set; } = DeviceFaults.None;
    public int CommandsSinceCrash { get; set; }
    public DateTimeOffset CrashedUntil { get; set; } = DateTimeOffset.MinValue;
    public DateTimeOffset BootingUntil { get; set; } = DateTimeOffset.MinValue;

    public string Foreground { get; set; } = "com.android.launcher3";
    public string? Url { get; set; }
    public string Typed { get; set; } = "";
    public (int X, int Y)? LastTouch { get; set; }
    public int ScreenVersion { get; set; }

    public int InFlight => Volatile.Read(ref _inFlight);
    public int MaxInFlight => Volatile.Read(ref _maxInFlight);

    public void Enter()
    {
        var now = Interlocked.Increment(ref _inFlight);
        int seen;
        while (now > (seen = Volatile.Read(ref _maxInFlight)) && Interlocked.CompareExchange(ref _maxInFlight, now, seen) != seen)
        {
        }
    }

    public void Exit() => Interlocked.Decrement(ref _inFlight);

    public DeviceState StateAt(DateTimeOffset now) =>
        Faults.Offline || now < CrashedUntil ? DeviceState.Offline
        : now < BootingUntil ? DeviceState.Booting
        : DeviceState.Ready;

    public void Touched(int x, int y, string? foreground = null)
    {
        LastTouch = (Math.Clamp(x, 0, ScreenWidth - 1), Math.Clamp(y, 0, ScreenHeight - 1));
        if (foreground is not null)
        {
            Foreground = foreground;
        }
        ScreenVersion++;
    }

    public void GoHome()
    {
        Foreground = "com.android.launcher3";
        Url = null;
        Typed = "";
        LastTouch = null;
        ScreenVersion++;
    }

    /// <summary>
    /// The background comes from the device and its foreground app; a stripe moves with every
    /// screen change and a marker shows the last touch, so successive screenshots differ.
    /// </summary>
    public byte[] Render()
    {
        var app = StableHash(Foreground + "|" + Url + "|" + Typed);
        var bg = ((byte)((Colour.R + app) & 0xFF), (byte)((Colour.G + (app >> 8)) & 0xFF), (byte)((Colour.B + (app >> 16)) & 0xFF));
        var stripeTop = ScreenVersion * 16 % ScreenHeight;
        var pixels = new byte[ScreenWidth * ScreenHeight * 3];
        for (var y = 0; y < ScreenHeight; y++)
        {
            var inStripe = y >= stripeTop && y < stripeTop + 16;
            for (var x = 0; x < ScreenWidth; x++)
            {
                var nearTouch = LastTouch is { } t && Math.Abs(t.X - x) < 4 && Math.Abs(t.Y - y) < 4;
                var i = ((y * ScreenWidth) + x) * 3;
                (pixels[i], pixels[i + 1], pixels[i + 2]) = nearTouch ? ((byte)255, (byte)0, (byte)0)
                    : inStripe ? ((byte)(255 - bg.Item1), (byte)(255 - bg.Item2), (byte)(255 - bg.Item3))
                    : bg;
            }
        }
        return PngEncoder.Encode(ScreenWidth, ScreenHeight, pixels);
    }

    /// <summary>FNV-1a: string.GetHashCode is randomised per process, and screenshots must not be.</summary>
    internal static int StableHash(string text)
    {
        var hash = 2166136261u;
        foreach (var c in text)
        {
            hash = (hash ^ c) * 16777619u;
        }
        return (int)(hash & 0x7FFFFFFF);
    }
}
