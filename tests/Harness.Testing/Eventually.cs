namespace Harness.Testing;

/// <summary>Waiting in real time for work the server does on its own (background services, after the response).</summary>
public static class Eventually
{
    /// <summary>Polls <paramref name="condition"/> every 20 ms until it holds; fails the test after <paramref name="seconds"/>.</summary>
    public static async Task UntilAsync(Func<Task<bool>> condition, string what, int seconds = 15)
    {
        var deadline = DateTime.UtcNow.AddSeconds(seconds);
        while (!await condition())
        {
            Xunit.Assert.True(DateTime.UtcNow < deadline, $"{what}: not within {seconds} s");
            await Task.Delay(20);
        }
    }

    /// <inheritdoc cref="UntilAsync(Func{Task{bool}}, string, int)"/>
    public static Task UntilAsync(Func<bool> condition, string what, int seconds = 15) =>
        UntilAsync(() => Task.FromResult(condition()), what, seconds);
}
