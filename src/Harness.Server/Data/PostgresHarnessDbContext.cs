using Harness.Contracts.Runs;
using Harness.Server.Data.Entities;
using Microsoft.EntityFrameworkCore;
using Microsoft.EntityFrameworkCore.Storage;
using Npgsql;

namespace Harness.Server.Data;

public sealed class PostgresHarnessDbContext(DbContextOptions<PostgresHarnessDbContext> options) : HarnessDbContext(options)
{
    protected override string JsonColumnType => "jsonb";

    public override async Task<IDbContextTransaction> BeginLockedTransactionAsync(HarnessLock key, CancellationToken cancellationToken)
    {
        var transaction = await Database.BeginTransactionAsync(cancellationToken);
        await AcquireLockAsync(key, cancellationToken);
        return transaction;
    }

    public override async Task<IDbContextTransaction> BeginSharedLockedTransactionAsync(HarnessLock key, CancellationToken cancellationToken)
    {
        var transaction = await Database.BeginTransactionAsync(cancellationToken);
        var lockKey = (long)key;
        await Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock_shared({lockKey})", cancellationToken);
        return transaction;
    }

    public override async Task<IDbContextTransaction> BeginSharedLockedTransactionAsync(HarnessLock key, KeyedLock space, Guid keyed, CancellationToken cancellationToken)
    {
        var transaction = await Database.BeginTransactionAsync(cancellationToken);
        var lockKey = (long)key;
        var fold = Fold(keyed);
        // OFFSET 0 keeps the subquery a step of its own, run first: the shared lock, then the keyed one, as everywhere else.
        await Database.ExecuteSqlAsync(
            $"SELECT pg_advisory_xact_lock({(int)space}, {fold}) FROM (SELECT pg_advisory_xact_lock_shared({lockKey}) OFFSET 0) AS dispatch",
            cancellationToken);
        return transaction;
    }

    public override async Task<(IDbContextTransaction Transaction, List<RunDeviceStateEntity> States)> BeginSharedLockedTransactionAsync(
        HarnessLock key, IReadOnlyCollection<(Guid RunId, string DeviceId)> states, CancellationToken cancellationToken)
    {
        if (states.Count == 0)
        {
            return (await BeginSharedLockedTransactionAsync(key, cancellationToken), []);
        }
        var transaction = await Database.BeginTransactionAsync(cancellationToken);
        await using var batch = Batch();
        batch.BatchCommands.Add(LockStates(key, states));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var locked = await TrackedRows.ReadAsync<RunDeviceStateEntity>(this, reader, cancellationToken);
        return (transaction, locked);
    }

    public override Task<List<RunDeviceStateEntity>> LockDeviceStatesAsync(IReadOnlyCollection<(Guid RunId, string DeviceId)> keys, CancellationToken cancellationToken) =>
        RunDeviceStates.FromSql($"""
            SELECT s.* FROM run_device_states s
            JOIN unnest({keys.Select(k => k.RunId).ToArray()}, {keys.Select(k => k.DeviceId).ToArray()}) AS k(run_id, device_id)
              ON s.run_id = k.run_id AND s.device_id = k.device_id
            ORDER BY s.run_id, s.device_id FOR UPDATE OF s
            """).ToListAsync(cancellationToken);

    public override async Task LockKeysAsync(KeyedLock space, IEnumerable<Guid> keys, CancellationToken cancellationToken)
    {
        var folds = keys.Select(Fold).Distinct().Order().ToArray();
        if (folds.Length > 0)
        {
            // unnest yields the array in order, so the locks are taken in it.
            await Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({(int)space}, k) FROM unnest({folds}) AS k", cancellationToken);
        }
    }

    /// <summary>The same 32 bits for a key on every replica (<see cref="Guid.GetHashCode"/> promises no such thing).</summary>
    private static int Fold(Guid key)
    {
        Span<byte> bytes = stackalloc byte[16];
        key.TryWriteBytes(bytes);
        var words = System.Runtime.InteropServices.MemoryMarshal.Cast<byte, int>(bytes);
        return words[0] ^ words[1] ^ words[2] ^ words[3];
    }

    public override async Task<(List<RunDeviceStateEntity> States, HashSet<string> Fresh)> BeginCallbackAsync(
        IReadOnlyCollection<(Guid RunId, string DeviceId)> keys, IReadOnlyList<CallbackEventEntity> events, bool withSteps, CancellationToken cancellationToken)
    {
        if (keys.Count == 0)
        {
            return await base.BeginCallbackAsync(keys, events, withSteps, cancellationToken);
        }
        // The statements of the base's three steps, in one batch: one round trip instead of three, and no
        // query pipeline of EF's. They run in order, so the shared lock and the rows are held first.
        await Database.BeginTransactionAsync(cancellationToken);
        await using var batch = Batch();
        batch.BatchCommands.Add(LockStates(HarnessLock.Dispatch, keys));
        if (events.Count > 0)
        {
            batch.BatchCommands.Add(InsertEvents(events));
        }
        if (withSteps)
        {
            // The steps of exactly these (run, device) pairs: a group's keys span many runs and devices.
            batch.BatchCommands.Add(Statement($"""
                SELECT {TrackedRows.Columns<RunStepEntity>(this, "st")} FROM run_steps st
                JOIN unnest($1::uuid[], $2::text[]) AS k(run_id, device_id) ON st.run_id = k.run_id AND st.device_id = k.device_id
                """, keys.Select(k => k.RunId).ToArray(), keys.Select(k => k.DeviceId).ToArray()));
        }
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var states = await TrackedRows.ReadAsync<RunDeviceStateEntity>(this, reader, cancellationToken);
        var fresh = new HashSet<string>(StringComparer.Ordinal);
        if (events.Count > 0)
        {
            await reader.NextResultAsync(cancellationToken);
            fresh = await InsertedAsync(reader, cancellationToken);
        }
        if (withSteps)
        {
            await reader.NextResultAsync(cancellationToken);
            await TrackedRows.ReadAsync<RunStepEntity>(this, reader, cancellationToken);
        }
        return (states, fresh);
    }

    /// <summary>
    /// Leaves out the tasks a claim could not choose now, which the base reads and the claim skips: every
    /// task of a busy device, and a device's tasks after its first one of an unbounded run (a run whose
    /// concurrency is not below its devices is never full, so that task is chosen, or the claim is full
    /// first). A device that is gone or quarantined keeps every task, so each is skipped as unrunnable. The
    /// claim's read then grows with the agent's idle devices, not with its queued tasks: in a drain of 50
    /// runs on 31 devices an agent had up to 1,550 queued tasks, of which at most 31 can be chosen.
    /// </summary>
    public override async Task<List<QueuedTask>> QueuedTasksAsync(IReadOnlyCollection<Guid> agentIds, CancellationToken cancellationToken)
    {
        await using var batch = Batch();
        // Each agent's queued tasks through the (agent_id, status) index, one probe per agent: a plain
        // `agent_id = ANY(…) AND status = 'queued'` was planned, on statistics from before a run queued its
        // devices, as a scan of every queued task of every agent. The busy devices are an anti-join, read once,
        // not a check per row. The window counts, per device
        // in the claim's order (oldest run first), the tasks of unbounded runs before each task. Two runs
        // created in the same microsecond are ordered by id here and by Guid order in the claim: either
        // way the device takes one of its equally old runs.
        batch.BatchCommands.Add(Statement("""
            WITH queued AS (
                SELECT s.agent_id, s.run_id, s.device_id, r.created_at, r.concurrency, r.concurrency < r.total_devices AS bounded, r.subject,
                       r.step_timeout_ms, r.upload_timeout_ms, d.device_id IS NOT NULL AS device_exists, d.index_no, d.runtime_handle,
                       d.quarantined_at IS NOT NULL AS quarantined
                FROM (SELECT DISTINCT unnest($1::uuid[])) AS a(id)
                CROSS JOIN LATERAL (SELECT * FROM run_device_states s WHERE s.agent_id = a.id AND s.status = $2 OFFSET 0) AS s
                JOIN runs r ON r.id = s.run_id
                LEFT JOIN devices d ON d.device_id = s.device_id
                WHERE r.status = ANY($3)
                  AND NOT EXISTS (SELECT 1 FROM run_device_states o WHERE o.device_id = s.device_id AND o.status = ANY($4))),
            ranked AS (
                SELECT q.*, count(*) FILTER (WHERE NOT q.bounded) OVER (
                    PARTITION BY q.device_id ORDER BY q.created_at, q.run_id ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING) AS unbounded_before
                FROM queued q)
            SELECT agent_id, run_id, device_id, created_at, concurrency, bounded, subject, step_timeout_ms, upload_timeout_ms,
                   device_exists, index_no, runtime_handle, quarantined
            FROM ranked WHERE unbounded_before = 0 OR NOT device_exists OR quarantined
            """,
            agentIds.ToArray(), DeviceRunStatus.Queued, new[] { RunStatus.Queued, RunStatus.Running },
            new[] { DeviceRunStatus.Dispatched, DeviceRunStatus.Preflight, DeviceRunStatus.Running, DeviceRunStatus.Waiting }));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        var tasks = new List<QueuedTask>();
        while (await reader.ReadAsync(cancellationToken))
        {
            tasks.Add(new QueuedTask(
                reader.GetGuid(0), reader.GetGuid(1), reader.GetString(2), reader.GetFieldValue<DateTimeOffset>(3), reader.GetInt32(4), reader.GetBoolean(5),
                reader.IsDBNull(6) ? null : reader.GetString(6), reader.GetInt32(7), reader.GetInt32(8), reader.GetBoolean(9),
                reader.IsDBNull(10) ? null : reader.GetInt32(10), reader.IsDBNull(11) ? null : reader.GetString(11), reader.GetBoolean(12),
                DeviceBusy: false));
        }
        return tasks;
    }

    /// <summary>
    /// Holds <paramref name="key"/> shared and locks the device states of <paramref name="keys"/>, read whole for
    /// <see cref="TrackedRows"/>. The shared lock is a one-time filter (an InitPlan), evaluated before the join
    /// that yields the rows to lock: the shared lock first, then the rows, as everywhere else.
    /// </summary>
    private NpgsqlBatchCommand LockStates(HarnessLock key, IReadOnlyCollection<(Guid RunId, string DeviceId)> keys) => Statement($"""
        SELECT {TrackedRows.Columns<RunDeviceStateEntity>(this, "s")} FROM run_device_states s
        JOIN unnest($1::uuid[], $2::text[]) AS k(run_id, device_id) ON s.run_id = k.run_id AND s.device_id = k.device_id
        WHERE (SELECT pg_advisory_xact_lock_shared($3)) IS NOT NULL
        ORDER BY s.run_id, s.device_id FOR UPDATE OF s
        """, keys.Select(k => k.RunId).ToArray(), keys.Select(k => k.DeviceId).ToArray(), (long)key);

    public override async Task<int> SaveDispatchChangesAsync(CancellationToken cancellationToken)
    {
        if (Database.CurrentTransaction is null || TrackedRows.Changes(this) is not { } changes)
        {
            return await SaveChangesAsync(cancellationToken);
        }
        if (changes.Count == 0)
        {
            return 0;
        }
        await using var batch = Batch();
        var expected = new List<(NpgsqlBatchCommand Command, int Rows)>();
        foreach (var write in TrackedRows.Writes(changes))
        {
            var command = Statement(write.Sql, write.Arrays);
            batch.BatchCommands.Add(command);
            expected.Add((command, write.Rows));
        }
        await batch.ExecuteNonQueryAsync(cancellationToken);
        if (expected.FirstOrDefault(e => e.Command.RecordsAffected != e.Rows) is { Command: not null } missing)
        {
            // A row this unit of work read is gone: as EF's save, refuse it (the transaction is rolled back).
            throw new DbUpdateConcurrencyException($"expected {missing.Rows} rows written, {missing.Command.RecordsAffected} were: {missing.Command.CommandText}");
        }
        TrackedRows.Accept(this, changes);
        return changes.Count;
    }

    /// <summary>A batch of hand-written statements in the current transaction, on EF's connection.</summary>
    private NpgsqlBatch Batch() =>
        new((NpgsqlConnection)Database.GetDbConnection(),
            (NpgsqlTransaction)(Database.CurrentTransaction ?? throw new InvalidOperationException("no transaction is open")).GetDbTransaction());

    private static NpgsqlBatchCommand Statement(string sql, params object[] values)
    {
        var command = new NpgsqlBatchCommand(sql);
        foreach (var value in values)
        {
            command.Parameters.Add(new NpgsqlParameter { Value = value });
        }
        return command;
    }

    /// <summary>
    /// One statement instead of a read and then a save: an id already stored (or stored by a concurrent
    /// transaction, which this one then waits for) is skipped, and the ids inserted come back.
    /// </summary>
    private static NpgsqlBatchCommand InsertEvents(IReadOnlyList<CallbackEventEntity> events)
    {
        var rows = events.DistinctBy(e => e.EventId, StringComparer.Ordinal).ToList();
        return Statement("""
            INSERT INTO callback_events (event_id, agent_id, type, run_id, device_id, received_at)
            SELECT * FROM unnest($1::text[], $2::uuid[], $3::text[], $4::uuid[], $5::text[], $6::timestamptz[])
            ON CONFLICT (event_id) DO NOTHING
            RETURNING event_id
            """,
            rows.Select(e => e.EventId).ToArray(), rows.Select(e => e.AgentId).ToArray(), rows.Select(e => e.Type).ToArray(),
            rows.Select(e => e.RunId).ToArray(), rows.Select(e => e.DeviceId).ToArray(), rows.Select(e => e.ReceivedAt).ToArray());
    }

    private static async Task<HashSet<string>> InsertedAsync(NpgsqlDataReader reader, CancellationToken cancellationToken)
    {
        var inserted = new HashSet<string>(StringComparer.Ordinal);
        while (await reader.ReadAsync(cancellationToken))
        {
            inserted.Add(reader.GetString(0));
        }
        return inserted;
    }

    public override async Task<HashSet<string>> RecordCallbackEventsAsync(IReadOnlyList<CallbackEventEntity> events, CancellationToken cancellationToken)
    {
        if (events.Count == 0)
        {
            return new HashSet<string>(StringComparer.Ordinal);
        }
        await using var batch = Batch();
        batch.BatchCommands.Add(InsertEvents(events));
        await using var reader = await batch.ExecuteReaderAsync(cancellationToken);
        return await InsertedAsync(reader, cancellationToken);
    }

    public override async Task<(List<RunEntity> Moved, bool Deferred)> MoveRunCountersAsync(IReadOnlyList<(Guid RunId, RunCounterDelta Delta)> moves, CancellationToken cancellationToken)
    {
        var ids = moves.Select(m => m.RunId).ToArray();
        int[] Of(Func<RunCounterDelta, int> counter) => moves.Select(m => counter(m.Delta)).ToArray();
        // One statement: lock the rows no one else is moving (FOR NO KEY UPDATE, which inserts referring to the
        // run do not wait for); for those, add this delta and every move left for the run, deleting the moves;
        // for the others, leave this delta as a move. Nobody queues on a run's row.
        var moved = await Runs.FromSql($"""
            WITH mine (run_id, total, queued, running, succeeded, failed, skipped, cancelled) AS (
                SELECT * FROM unnest({ids}, {Of(d => d.Total)}, {Of(d => d.Queued)}, {Of(d => d.Running)}, {Of(d => d.Succeeded)},
                                     {Of(d => d.Failed)}, {Of(d => d.Skipped)}, {Of(d => d.Cancelled)})),
            locked AS (
                SELECT id FROM runs WHERE id = ANY({ids}) ORDER BY id FOR NO KEY UPDATE SKIP LOCKED),
            left_before AS (
                DELETE FROM run_counter_moves m USING locked WHERE m.run_id = locked.id
                RETURNING m.run_id, m.total, m.queued, m.running, m.succeeded, m.failed, m.skipped, m.cancelled),
            left_now AS (
                INSERT INTO run_counter_moves (run_id, total, queued, running, succeeded, failed, skipped, cancelled)
                SELECT * FROM mine WHERE run_id NOT IN (SELECT id FROM locked)
                    AND (total, queued, running, succeeded, failed, skipped, cancelled) <> (0, 0, 0, 0, 0, 0, 0)),
            sums AS (
                SELECT run_id, sum(total) AS total, sum(queued) AS queued, sum(running) AS running, sum(succeeded) AS succeeded,
                       sum(failed) AS failed, sum(skipped) AS skipped, sum(cancelled) AS cancelled
                FROM (SELECT * FROM left_before UNION ALL SELECT * FROM mine WHERE run_id IN (SELECT id FROM locked)) AS all_moves
                GROUP BY run_id)
            UPDATE runs r SET total_devices = r.total_devices + s.total, queued_count = r.queued_count + s.queued,
                running_count = r.running_count + s.running, succeeded_count = r.succeeded_count + s.succeeded,
                failed_count = r.failed_count + s.failed, skipped_count = r.skipped_count + s.skipped,
                cancelled_count = r.cancelled_count + s.cancelled
            FROM sums s WHERE r.id = s.run_id
            RETURNING r.*
            """).ToListAsync(cancellationToken);
        var deferred = moved.Count < ids.Distinct().Count();
        _movesLeft |= deferred;
        return (moved, deferred);
    }

    private bool _movesLeft;

    internal override HarnessDbContext Rented()
    {
        // A rolled-back unit of work may have left the flag set; the next one starts without it.
        _movesLeft = false;
        return base.Rented();
    }

    /// <summary>Whether this context left a counter move since it was last asked; asking clears it.</summary>
    internal bool TakeMovesLeft()
    {
        var left = _movesLeft;
        _movesLeft = false;
        return left;
    }

    public override Task<List<DeviceStatusRow>> RecountDeviceStatusesAsync(IReadOnlyCollection<Guid> runIds, CancellationToken cancellationToken) =>
        Database.SqlQuery<DeviceStatusRow>($"""
            WITH dropped AS (DELETE FROM run_counter_moves WHERE run_id = ANY({runIds.ToArray()}))
            SELECT run_id AS "RunId", device_id AS "DeviceId", status AS "Status" FROM run_device_states WHERE run_id = ANY({runIds.ToArray()})
            """).ToListAsync(cancellationToken);

    public override Task NotifyAsync(string channel, string payload, CancellationToken cancellationToken) =>
        Database.ExecuteSqlAsync($"SELECT pg_notify({channel}, {payload})", cancellationToken);

    public override async Task AcquireLockAsync(HarnessLock key, CancellationToken cancellationToken)
    {
        var lockKey = (long)key;
        await Database.ExecuteSqlAsync($"SELECT pg_advisory_xact_lock({lockKey})", cancellationToken);
    }
}
