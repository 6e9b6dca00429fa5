using System.Text;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Metadata.Builders;

namespace Harness.Server.Data;

internal static class HarnessModel
{
    public const string JsonAnnotation = "Harness:Json";

    /// <summary>Marks a string property as a JSON document; each provider picks its column type.</summary>
    public static PropertyBuilder<TProperty> IsJson<TProperty>(this PropertyBuilder<TProperty> property) =>
        property.HasAnnotation(JsonAnnotation, true);

    /// <summary>Tables, columns, keys and indexes in snake_case, the names DESIGN.md uses.</summary>
    public static void UseSnakeCaseNames(ModelBuilder modelBuilder)
    {
        foreach (var entity in modelBuilder.Model.GetEntityTypes())
        {
            foreach (var property in entity.GetProperties())
            {
                property.SetColumnName(ToSnakeCase(property.Name));
            }
            foreach (var key in entity.GetKeys())
            {
                if ((key.GetName() ?? key.GetDefaultName()) is { } keyName)
                {
                    key.SetName(ToSnakeCase(keyName));
                }
            }
            foreach (var foreignKey in entity.GetForeignKeys())
            {
                if ((foreignKey.GetConstraintName() ?? foreignKey.GetDefaultName()) is { } foreignKeyName)
                {
                    foreignKey.SetConstraintName(ToSnakeCase(foreignKeyName));
                }
            }
            foreach (var index in entity.GetIndexes())
            {
                if ((index.GetDatabaseName() ?? index.GetDefaultDatabaseName()) is { } indexName)
                {
                    index.SetDatabaseName(ToSnakeCase(indexName));
                }
            }
        }
    }

    public static string ToSnakeCase(string name)
    {
        var builder = new StringBuilder(name.Length + 8);
        for (var i = 0; i < name.Length; i++)
        {
            var c = name[i];
            if (char.IsUpper(c))
            {
                var previousIsLowerOrDigit = i > 0 && (char.IsLower(name[i - 1]) || char.IsDigit(name[i - 1]));
                var nextIsLower = i + 1 < name.Length && char.IsLower(name[i + 1]) && i > 0 && char.IsUpper(name[i - 1]);
                if (previousIsLowerOrDigit || nextIsLower)
                {
                    builder.Append('_');
                }
                builder.Append(char.ToLowerInvariant(c));
            }
            else
            {
                builder.Append(c);
            }
        }
        return builder.ToString();
    }
}
