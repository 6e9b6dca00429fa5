namespace Harness.Agent.Tests.Fakes;

/// <summary>Waiting in real time for work the code under test does on its own threads.</summary>
internal static class Waits
{
    /// <summary>Polls the condition every 10 ms; fails the test after 10 s.</summary>
    public static async Task UntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(10));
        while (!condition())
        {
            await Task.Delay(10, timeout.Token);
        }
    }
}
