import { fileURLToPath } from 'node:url';

/**
 * The Python side shipped with pythond (python.d/core: the SDK and the
 * collector host). Users' python.d folders hold only collectors; the core is
 * always this one, so a runner and its host speak the same protocol version.
 */
export const SDK_CORE_DIR = fileURLToPath(new URL('../../../python.d/core/', import.meta.url));
export const HOST_SCRIPT = 'host.py';
