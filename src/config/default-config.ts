import { fileURLToPath } from 'node:url';

/** The python.d folder shipped with pythond, wherever it is installed: the demo collectors are there. */
const SHIPPED_PYTHON_D = fileURLToPath(new URL('../../../python.d', import.meta.url));

/**
 * The configuration `pythond run` uses when no --config is given and there is
 * no pythond.toml in the working directory: the demo collectors shipped with
 * pythond (so it runs from any folder), written as JSON Lines under data/ in
 * the working directory.
 */
export const DEFAULT_CONFIG_TOML = `
[runner]
executor = "auto"
python_d = ${JSON.stringify(SHIPPED_PYTHON_D)}

[[inputs.pythond]]
name = "demo"
cmd = "python3"
dirs = ["demo"]

[[outputs.file]]
path = "data/points.jsonl"
`;
