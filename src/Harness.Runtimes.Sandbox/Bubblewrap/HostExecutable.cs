namespace Harness.Runtimes.Sandbox.Bubblewrap;

/// <summary>Finds a program on the agent's host: an absolute path as given, else the first match on PATH.</summary>
internal static class HostExecutable
{
    private const string DefaultPath = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

    public static string? Find(string name)
    {
        if (string.IsNullOrWhiteSpace(name))
        {
            return null;
        }
        if (name.Contains('/', StringComparison.Ordinal))
        {
            return File.Exists(name) ? Path.GetFullPath(name) : null;
        }
        var path = Environment.GetEnvironmentVariable("PATH");
        foreach (var directory in (string.IsNullOrEmpty(path) ? DefaultPath : path + ":" + DefaultPath).Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            var candidate = Path.Combine(directory, name);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }
        return null;
    }
}
