namespace Harness.Testing;

/// <summary>Every API test runs on both storage providers: SQLite (the embedded default) and real PostgreSQL.</summary>
public static class Providers
{
    public const string Sqlite = "sqlite";
    public const string Postgres = "postgres";
}
