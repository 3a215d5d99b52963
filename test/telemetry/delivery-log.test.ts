import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { pino } from 'pino';
import { DeliveryLog } from '../../src/telemetry/delivery-log.js';
import { createMetrics } from '../../src/telemetry/metrics.js';

/** A logger whose messages land in `lines`. */
function capture(): { log: pino.Logger; lines: string[] } {
  const lines: string[] = [];
  const log = pino({ level: 'info' }, { write: (line: string) => void lines.push((JSON.parse(line) as { msg: string }).msg) });
  return { log, lines };
}

describe('the delivery log', () => {
  it('says, each time, how many points each input produced and what each output did with them since the last time', async () => {
    const metrics = createMetrics('test');
    const { log, lines } = capture();
    const delivery = new DeliveryLog(metrics, log, 0);
    metrics.points.inc({ input: 'demo', category: 'metric' }, 100);
    metrics.points.inc({ input: 'demo', category: 'logging' }, 20);
    metrics.points.inc({ input: 'api', category: 'metric' }, 5);
    metrics.outputPoints.inc({ output: 'file[0]', status: 'sent' }, 125);
    metrics.outputPoints.inc({ output: 'influxdb[0]', status: 'sent' }, 100);
    metrics.outputPoints.inc({ output: 'influxdb[0]', status: 'failed' }, 25);
    metrics.outputBuffer.set({ output: 'influxdb[0]' }, 25);
    await delivery.report(300_000);
    metrics.points.inc({ input: 'demo', category: 'metric' }, 10);
    metrics.outputPoints.inc({ output: 'file[0]', status: 'sent' }, 10);
    metrics.outputPoints.inc({ output: 'influxdb[0]', status: 'sent' }, 35);
    metrics.outputBuffer.set({ output: 'influxdb[0]' }, 0);
    await delivery.report(600_000);
    await delivery.report(900_000);
    assert.deepEqual(lines, [
      'points in the last 300 s: 120 from demo, 5 from api; file[0] sent 125; influxdb[0] sent 100, failed 25, 25 waiting in its buffer',
      'points in the last 300 s: 10 from demo; file[0] sent 10; influxdb[0] sent 35',
      'no points in the last 300 s',
    ]);
  });

  it('says what an output sent from its buffer when no new points came in', async () => {
    const metrics = createMetrics('test');
    const { log, lines } = capture();
    const delivery = new DeliveryLog(metrics, log, 0);
    metrics.outputPoints.inc({ output: 'influxdb[0]', status: 'sent' }, 40);
    await delivery.report(60_000);
    assert.deepEqual(lines, ['no points in the last 60 s; influxdb[0] sent 40']);
  });
});
