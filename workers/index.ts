/**
 * The piscina worker entry: the data plane. Each export is a task the main
 * thread calls by name (src/points/tasks.ts); none of them touches the
 * network or the disk.
 */
import type { WorkerTasks } from '../src/points/tasks.js';
import { decodeReport as decode } from './decode-report.js';
import { parseWrite as parse } from './parse-write.js';

// Typed against the contract: a task missing here, or of another shape, does not compile.
const tasks: WorkerTasks = { decodeReport: decode, parseWrite: parse };
export const { decodeReport, parseWrite } = tasks;
