using Harness.Server;
using Npgsql;

namespace Harness.Testing;

/// <summary>
/// A database of its own for one test: a SQLite file, or a fresh database on the PostgreSQL
/// cluster named by HARNESS_TEST_POSTGRES (./test.sh starts a private one).
/// </summary>
public sealed class TestDatabase : IAsyncDisposable
{
    public const string PostgresVariable = "HARNESS_TEST_POSTGRES";

    private readonly string? _postgresAdmin;
    private readonly string? _postgresName;
    private readonly string? _sqliteFile;

    private TestDatabase(string provider, string connectionString, string? postgresAdmin, string? postgresName, string? sqliteFile)
    {
        Provider = provider;
        ConnectionString = connectionString;
        _postgresAdmin = postgresAdmin;
        _postgresName = postgresName;
        _sqliteFile = sqliteFile;
    }

    public string Provider { get; }
    public string ConnectionString { get; }

    /// <param name="postgresAdmin">A cluster other than HARNESS_TEST_POSTGRES's (a test's own <see cref="PrivatePostgres"/>).</param>
    public static async Task<TestDatabase> CreateAsync(string provider, string? postgresAdmin = null)
    {
        if (provider == DatabaseOptions.Sqlite)
        {
            var directory = Path.Combine(Path.GetTempPath(), "harness-tests");
            Directory.CreateDirectory(directory);
            var file = Path.Combine(directory, $"{Guid.NewGuid():N}.db");
            return new TestDatabase(provider, $"Data Source={file}", null, null, file);
        }
        var admin = postgresAdmin ?? PostgresAdminConnectionString();
        var name = $"harness_test_{Guid.NewGuid():N}";
        await using (var connection = new NpgsqlConnection(admin))
        {
            await connection.OpenAsync();
            await using var create = new NpgsqlCommand($"CREATE DATABASE \"{name}\"", connection);
            await create.ExecuteNonQueryAsync();
        }
        var builder = new NpgsqlConnectionStringBuilder(admin) { Database = name };
        return new TestDatabase(provider, builder.ConnectionString, admin, name, null);
    }

    /// <summary>Fails loudly instead of skipping: a PostgreSQL suite that silently did not run is worse than a red one.</summary>
    public static string PostgresAdminConnectionString() =>
        Environment.GetEnvironmentVariable(PostgresVariable) is { Length: > 0 } value
            ? value
            : throw new InvalidOperationException(
                $"{PostgresVariable} is not set. Run the suite with ./test.sh, which installs PostgreSQL when missing and starts a private instance.");

    public Dictionary<string, string?> Configuration() => new()
    {
        ["Harness:Database:Provider"] = Provider,
        ["Harness:Database:ConnectionString"] = ConnectionString,
    };

    public async ValueTask DisposeAsync()
    {
        if (_postgresName is not null)
        {
            NpgsqlConnection.ClearAllPools();
            await using var connection = new NpgsqlConnection(_postgresAdmin);
            await connection.OpenAsync();
            await using var drop = new NpgsqlCommand($"DROP DATABASE IF EXISTS \"{_postgresName}\" WITH (FORCE)", connection);
            await drop.ExecuteNonQueryAsync();
        }
        if (_sqliteFile is not null)
        {
            Microsoft.Data.Sqlite.SqliteConnection.ClearAllPools();
            foreach (var file in new[] { _sqliteFile, _sqliteFile + "-wal", _sqliteFile + "-shm" })
            {
                File.Delete(file);
            }
        }
    }
}
