using Harness.Server.Data;
using Npgsql;

namespace Harness.Server.Tests.Data;

public sealed class ConnectionStringsTests
{
    [Fact]
    public void Normalize_PostgresUrl_BecomesAnNpgsqlConnectionString()
    {
        var normalized = ConnectionStrings.Normalize(DatabaseOptions.Postgres, "postgres://harness:p%40ss%3Aword@db.internal:6543/harness_prod?sslmode=require");

        var builder = new NpgsqlConnectionStringBuilder(normalized);
        Assert.Equal("db.internal", builder.Host);
        Assert.Equal(6543, builder.Port);
        Assert.Equal("harness_prod", builder.Database);
        Assert.Equal("harness", builder.Username);
        Assert.Equal("p@ss:word", builder.Password);
        Assert.Equal(SslMode.Require, builder.SslMode);
    }

    [Fact]
    public void Normalize_KeyValueConnectionString_IsKept()
    {
        var normalized = ConnectionStrings.Normalize(DatabaseOptions.Postgres, "Host=127.0.0.1;Port=5433;Database=h;Username=u");

        Assert.Equal("127.0.0.1", new NpgsqlConnectionStringBuilder(normalized).Host);
    }

    [Fact]
    public void Normalize_Postgres_SkipsTheResetOnClose_UnlessTheOperatorSaysOtherwise()
    {
        var defaulted = ConnectionStrings.Normalize(DatabaseOptions.Postgres, "Host=127.0.0.1;Database=h");
        var explicitReset = ConnectionStrings.Normalize(DatabaseOptions.Postgres, "Host=127.0.0.1;Database=h;No Reset On Close=false");
        var fromUrl = ConnectionStrings.Normalize(DatabaseOptions.Postgres, "postgres://u:p@127.0.0.1:5432/h");

        Assert.True(new NpgsqlConnectionStringBuilder(defaulted).NoResetOnClose);
        Assert.False(new NpgsqlConnectionStringBuilder(explicitReset).NoResetOnClose);
        Assert.True(new NpgsqlConnectionStringBuilder(fromUrl).NoResetOnClose);
    }

    [Fact]
    public void Normalize_Postgres_PreparesItsStatements_UnlessTheOperatorSaysOtherwise()
    {
        var defaulted = ConnectionStrings.Normalize(DatabaseOptions.Postgres, "Host=127.0.0.1;Database=h");
        var turnedOff = ConnectionStrings.Normalize(DatabaseOptions.Postgres, "Host=127.0.0.1;Database=h;Max Auto Prepare=0");
        var fromUrl = ConnectionStrings.Normalize(DatabaseOptions.Postgres, "postgres://u:p@127.0.0.1:5432/h?max_auto_prepare=8");

        Assert.Equal(ConnectionStrings.AutoPrepared, new NpgsqlConnectionStringBuilder(defaulted).MaxAutoPrepare);
        Assert.Equal(0, new NpgsqlConnectionStringBuilder(turnedOff).MaxAutoPrepare);
        Assert.Equal(8, new NpgsqlConnectionStringBuilder(fromUrl).MaxAutoPrepare);
    }

    [Theory]
    [InlineData(DatabaseOptions.Postgres, "garbage;;==")]
    [InlineData(DatabaseOptions.Postgres, "postgres://")]
    [InlineData(DatabaseOptions.Postgres, "Hots=db")]
    [InlineData(DatabaseOptions.Sqlite, "Data Sorce=x.db")]
    public void TryNormalize_Invalid_SaysWhy(string provider, string value)
    {
        Assert.False(ConnectionStrings.TryNormalize(provider, value, out _, out var problem));
        Assert.False(string.IsNullOrWhiteSpace(problem));
    }
}
