namespace Harness.Testing;

public static class TempFolder
{
    /// <summary>Deletes a test's temp folder and all in it, as far as it can: a sandbox may leave a file this user cannot remove.</summary>
    public static void TryDelete(string path)
    {
        try
        {
            Directory.Delete(path, recursive: true);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
        }
    }
}
