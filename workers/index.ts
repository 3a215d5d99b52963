/**
 * The piscina worker entry: the data plane. Each export is a task the main
 * thread calls by name (src/points/tasks.ts); none of them touches the
 * network or the disk.
 */
import type { WorkerTasks } from '../src/points/tasks.js';
import { bytePool } from './byte-pool.js';
import { decodeReport as decode } from './decode-report.js';
import { parseWrite as parse } from './parse-write.js';

/** A task that first takes in the buffers the main thread gave back with it. */
const takingBack =
  <T extends { recycled?: ArrayBuffer[] }, R>(run: (task: T) => R) =>
  (task: T): R => {
    if (task.recycled) bytePool.giveBack(task.recycled);
    return run(task);
  };

// Typed against the contract: a task missing here, or of another shape, does not compile.
const tasks: WorkerTasks = { decodeReport: takingBack(decode), parseWrite: takingBack(parse) };
export const { decodeReport, parseWrite } = tasks;
