using System.Data.Common;
using Harness.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.ChangeTracking;
using Microsoft.EntityFrameworkCore.Metadata;

namespace Harness.Server.Data;

/// <summary>
/// Entities read and written by hand-written SQL, for the few hot paths that batch several statements in
/// one round trip (EF sends one query per round trip, and one statement per row it saves). The columns come
/// from the model, every mapped property of the entity, so a column added to the entity is read and written
/// here too; the rows read are attached to the context as if EF had read them (tracked, unchanged).
/// Only for providers whose values need no conversion (PostgreSQL).
/// </summary>
internal static class TrackedRows
{
    /// <summary>The entity's columns, each qualified by <paramref name="alias"/>, in the order <see cref="ReadAsync"/> reads them.</summary>
    public static string Columns<T>(DbContext db, string alias) =>
        string.Join(", ", Properties<T>(db).Select(p => $"{alias}.{p.GetColumnName()}"));

    /// <summary>Reads the current result of <paramref name="reader"/> (selected with <see cref="Columns"/>) and attaches each row.</summary>
    public static async Task<List<T>> ReadAsync<T>(DbContext db, DbDataReader reader, CancellationToken cancellationToken)
        where T : class
    {
        var properties = Properties<T>(db);
        var rows = new List<T>();
        while (await reader.ReadAsync(cancellationToken))
        {
            // The entities have required members, which only an object initializer sets; the model's
            // properties set every column here.
            var row = (T)Activator.CreateInstance(typeof(T))!;
            for (var i = 0; i < properties.Count; i++)
            {
                properties[i].PropertyInfo!.SetValue(row, Value(reader, i, properties[i].ClrType));
            }
            db.Attach(row);
            rows.Add(row);
        }
        return rows;
    }

    /// <summary>
    /// The context's pending changes (changes detected), when <see cref="Writes"/> can write every one: a device
    /// state or a step changed, a step added. Null when there is any other change, which EF's save makes.
    /// </summary>
    public static List<EntityEntry>? Changes(DbContext db)
    {
        db.ChangeTracker.DetectChanges();
        var detect = db.ChangeTracker.AutoDetectChangesEnabled;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        try
        {
            var changes = new List<EntityEntry>();
            foreach (var entry in db.ChangeTracker.Entries())
            {
                switch (entry.State)
                {
                    case EntityState.Unchanged or EntityState.Detached:
                        continue;
                    case EntityState.Modified when entry.Entity is RunDeviceStateEntity or RunStepEntity:
                    case EntityState.Added when entry.Entity is RunStepEntity:
                        changes.Add(entry);
                        continue;
                    default:
                        return null;
                }
            }
            return changes;
        }
        finally
        {
            db.ChangeTracker.AutoDetectChangesEnabled = detect;
        }
    }

    /// <summary>
    /// The entities of type <typeparamref name="T"/> the context tracks, without detecting changes first (which
    /// <c>Entries</c> and <c>Local</c> do, over every tracked row): for a unit of work that has just read them, or
    /// has just detected changes.
    /// </summary>
    public static IEnumerable<EntityEntry<T>> Tracked<T>(DbContext db)
        where T : class
    {
        var detect = db.ChangeTracker.AutoDetectChangesEnabled;
        db.ChangeTracker.AutoDetectChangesEnabled = false;
        try
        {
            return db.ChangeTracker.Entries<T>().ToList();
        }
        finally
        {
            db.ChangeTracker.AutoDetectChangesEnabled = detect;
        }
    }

    /// <summary>
    /// One statement per table and kind of change, with the rows it must write: an <c>UPDATE … FROM unnest(…)</c>
    /// of the columns changed (found by the key), or an <c>INSERT … SELECT … FROM unnest(…)</c> of every column but
    /// a generated key. The values are the entities' current ones, one array parameter per column.
    /// </summary>
    public static IEnumerable<(string Sql, object[] Arrays, int Rows)> Writes(IReadOnlyList<EntityEntry> changes)
    {
        foreach (var kind in changes.GroupBy(e => (e.Metadata, e.State)))
        {
            var (type, state) = kind.Key;
            var rows = kind.ToList();
            var key = type.FindPrimaryKey()!.Properties;
            var columns = state == EntityState.Added
                ? type.GetProperties().Where(p => !(p.IsPrimaryKey() && p.ValueGenerated != ValueGenerated.Never)).ToList()
                : key.Concat(type.GetProperties().Where(p => !p.IsPrimaryKey() && rows.Any(r => r.Property(p.Name).IsModified))).ToList();
            var arrays = columns.Select(p => (object)Values(rows, p)).ToArray();
            var table = Quote(type.GetTableName()!);
            var names = columns.Select(p => Quote(p.GetColumnName())).ToList();
            var source = $"unnest({string.Join(", ", columns.Select((p, i) => $"${i + 1}::{p.GetColumnType()}[]"))})";
            yield return state == EntityState.Added
                ? ($"INSERT INTO {table} ({string.Join(", ", names)}) SELECT * FROM {source}", arrays, rows.Count)
                : ($"UPDATE {table} AS t SET {string.Join(", ", names.Skip(key.Count).Select(n => $"{n} = u.{n}"))} "
                    + $"FROM {source} AS u({string.Join(", ", names)}) "
                    + $"WHERE {string.Join(" AND ", names.Take(key.Count).Select(n => $"t.{n} = u.{n}"))}", arrays, rows.Count);
        }
    }

    /// <summary>
    /// After the <see cref="Writes"/> ran: the rows written are current, and an added one (whose key the
    /// database chose) is no longer tracked.
    /// </summary>
    public static void Accept(DbContext db, IReadOnlyList<EntityEntry> changes)
    {
        foreach (var entry in changes.Where(e => e.State == EntityState.Added))
        {
            entry.State = EntityState.Detached;
        }
        db.ChangeTracker.AcceptAllChanges();
    }

    private static Array Values(List<EntityEntry> rows, IProperty property)
    {
        var values = Array.CreateInstance(property.ClrType, rows.Count);
        var getter = property.GetGetter();
        for (var i = 0; i < rows.Count; i++)
        {
            var value = getter.GetClrValueUsingContainingEntity(rows[i].Entity);
            // timestamptz takes UTC offsets only; an agent may report another.
            values.SetValue(value is DateTimeOffset at ? at.ToUniversalTime() : value, i);
        }
        return values;
    }

    private static string Quote(string name) => $"\"{name}\"";

    private static List<IProperty> Properties<T>(DbContext db) =>
        (db.Model.FindEntityType(typeof(T)) ?? throw new InvalidOperationException($"{typeof(T).Name} is not in the model")).GetProperties().ToList();

    private static object? Value(DbDataReader reader, int i, Type type)
    {
        if (reader.IsDBNull(i))
        {
            return null;
        }
        var clr = Nullable.GetUnderlyingType(type) ?? type;
        return clr == typeof(string) ? reader.GetString(i)
            : clr == typeof(Guid) ? reader.GetGuid(i)
            : clr == typeof(int) ? reader.GetInt32(i)
            : clr == typeof(long) ? reader.GetInt64(i)
            : clr == typeof(bool) ? reader.GetBoolean(i)
            : clr == typeof(DateTimeOffset) ? reader.GetFieldValue<DateTimeOffset>(i)
            : throw new NotSupportedException($"column {i} is a {clr.Name}, which {nameof(TrackedRows)} does not read");
    }
}
