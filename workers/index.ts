/**
 * The piscina worker entry: the data plane. Each export is a task the
 * main thread calls by name; none of them touches the network or the disk.
 */
export { decodeReport } from './decode-report.js';
export { parseWrite } from './parse-write.js';
