namespace Harness.Server.Data.Entities;

/// <summary>A value the server generates once and every replica shares (the runtime key secret).</summary>
public sealed class ServerSettingEntity
{
    public required string Key { get; set; }
    public required string Value { get; set; }
}
