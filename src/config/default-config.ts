/**
 * The configuration `pythond run` uses when no --config is given and there is
 * no pythond.toml in the working directory: the demo collectors, written as
 * JSON Lines under data/.
 */
export const DEFAULT_CONFIG_TOML = `
[runner]
executor = "auto"

[[inputs.pythond]]
name = "demo"
cmd = "python3"
dirs = ["demo"]

[[outputs.file]]
path = "data/points.jsonl"
`;
