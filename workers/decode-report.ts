import { CATEGORY_BY_KEY, PRECISIONS, type CategoryKey, type Precision } from '../src/points/point.js';
import type { DecodeResult, ReportTask } from '../src/points/tasks.js';
import { PointBatcher } from './point-batcher.js';
import { TagFiller } from './tag-filler.js';
import { isTable } from '../src/schema/table.js';

/**
 * Decodes one `report` message (PROTOCOL.md): validates every point of every
 * category, normalises time to ns, adds the input's tags and the global ones
 * (the point's own first, then the input's; a report with
 * ignore_global_tags, whatever its value as in DataKit, gets no global tag)
 * and encodes the accepted points for the outputs. A bad point is dropped
 * and described; the rest of the report still counts.
 */
export function decodeReport(task: ReportTask): DecodeResult {
  const batcher = new PointBatcher(task.encodings);
  let message: unknown;
  try {
    message = JSON.parse(Buffer.from(task.line.buffer, task.line.byteOffset, task.line.byteLength).toString('utf8'));
  } catch (err) {
    return batcher.rejectAll(`the report message is not valid JSON: ${(err as Error).message}`);
  }
  const data = isTable(message) ? message.data : undefined;
  if (!isTable(data)) return batcher.rejectAll('the report message has no data object');

  const precision = data.precision ?? 'n';
  if (!PRECISIONS.includes(precision as Precision)) {
    return batcher.rejectAll(`precision must be one of ${PRECISIONS.join(', ')}, got ${JSON.stringify(precision)}`);
  }
  const tags = new TagFiller(data.ignore_global_tags ? task.tags : { ...task.globalTags, ...task.tags });

  for (const key of Object.keys(CATEGORY_BY_KEY) as CategoryKey[]) {
    const points = data[key];
    if (points === undefined || points === null || points === '') continue;
    const category = CATEGORY_BY_KEY[key];
    if (!Array.isArray(points)) {
      batcher.reject(`${key} (${category}) must be a list of points, got ${typeof points}`);
      continue;
    }
    points.forEach((raw, i) => {
      const problem = batcher.add(category, raw, precision as Precision, task.receivedAtNs, tags);
      if (problem) batcher.reject(`${key}[${i}]: ${problem}`);
    });
  }
  return batcher.finish();
}
