import type { InputConfig } from '../config/load.js';
import type { InputEvents } from '../telemetry/events/input-events.js';
import type { Logger } from '../telemetry/logger.js';
import type { Runtime } from '../runtimes/runtime.js';
import { FreshMode } from './fresh-mode.js';
import type { HostMode } from './host-mode.js';
import type { HostStarts } from './host-starts.js';
import { WarmMode } from './warm-mode.js';

/** Every mode, by its name in an input's `mode`. */
const MODES: Record<InputConfig['mode'], new (input: InputConfig, runtime: Runtime, log: Logger, starts: HostStarts, events: InputEvents) => HostMode> = {
  warm: WarmMode,
  fresh: FreshMode,
};

/** The hosts of `input`, in its mode, over `runtime`, starting in turn with other inputs' (`starts`); what they write outside runs goes to `events`. */
export function createHostMode(input: InputConfig, runtime: Runtime, log: Logger, starts: HostStarts, events: InputEvents): HostMode {
  return new MODES[input.mode](input, runtime, log, starts, events);
}
