namespace Harness.Cli.Commands;

/// <summary>What the executable prints for a person (not logs: these lines are never structured or shipped).</summary>
internal static class Banner
{
    public static void AdminTokenGenerated(string token)
    {
        Console.WriteLine();
        Console.WriteLine("  An admin token was generated. It is stored only as a hash and will not be shown again:");
        Console.WriteLine();
        Console.WriteLine($"    {token}");
        Console.WriteLine();
        Console.WriteLine("  Send it as 'Authorization: Bearer <token>'. Set HARNESS_ADMIN_TOKEN to choose your own instead.");
        Console.WriteLine();
    }
}
