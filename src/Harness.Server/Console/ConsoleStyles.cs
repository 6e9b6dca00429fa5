namespace Harness.Server.Console;

/// <summary>The console's one stylesheet, embedded so every host (build output, publish, tests) serves it.</summary>
internal static class ConsoleStyles
{
    public static string Css { get; } = Load();

    private static string Load()
    {
        using var stream = typeof(ConsoleStyles).Assembly.GetManifestResourceStream("Harness.Server.console.css")
            ?? throw new InvalidOperationException("console.css is not embedded");
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }
}
