// graphile-worker peer for bench/throughput.sh: add_job JOBS no-op jobs in one statement, then run one
// worker pool at CONCURRENCY (the library's defaults otherwise) and time the drain from the first
// job's pickup until no job is left in graphile_worker._private_jobs.
// usage: node drain.js <connection string> [jobs=50000] [concurrency=32]
"use strict";
const { run, runMigrations } = require("graphile-worker");
const { Pool } = require("pg");

async function main() {
  const connectionString = process.argv[2];
  const jobs = Number(process.argv[3] || 50000);
  const concurrency = Number(process.argv[4] || 32);
  await runMigrations({ connectionString, logger: quiet() });
  const pool = new Pool({ connectionString, max: 2 });
  const started = Date.now();
  await pool.query("SELECT graphile_worker.add_job('noop', json_build_object('i', i)) FROM generate_series(1, $1::int) i", [jobs]);
  console.error(`graphile-worker: added ${jobs} in ${((Date.now() - started) / 1000).toFixed(1)} s`);

  let first = 0n;
  const runner = await run({
    connectionString,
    concurrency,
    noHandleSignals: true,
    logger: quiet(),
    taskList: {
      noop: async () => {
        if (first === 0n) first = process.hrtime.bigint();
      },
    },
  });
  let last;
  for (;;) {
    const { rows } = await pool.query("SELECT count(*)::int AS n FROM graphile_worker._private_jobs");
    if (rows[0].n === 0) {
      last = process.hrtime.bigint();
      break;
    }
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await runner.stop();
  await pool.end();
  const seconds = Number(last - first) / 1e9;
  console.log(`graphile jobs=${jobs} concurrency=${concurrency} wall_s=${seconds.toFixed(2)} jobs_per_s=${Math.round(jobs / seconds)}`);
}

function quiet() {
  const { Logger } = require("graphile-worker");
  return new Logger(() => (level, message) => {
    if (level === "error") console.error(message);
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
