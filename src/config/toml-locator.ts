/**
 * Maps a key path such as `inputs.pythond[1].dirs` to the line of the TOML
 * text that sets it. The `toml` parser returns values without positions, so
 * this reads the text once more, just for table headers and `key =` lines:
 * enough to point an operator at the line of a bad value.
 */
const KEY = `(?:"[^"]*"|'[^']*'|[A-Za-z0-9_-]+)`;
const HEADER = new RegExp(String.raw`^\s*(\[\[?)\s*(${KEY}(?:\s*\.\s*${KEY})*)\s*\]\]?`);
const ASSIGNMENT = new RegExp(String.raw`^\s*(${KEY}(?:\s*\.\s*${KEY})*)\s*=`);

function splitKey(dotted: string): string[] {
  return [...dotted.matchAll(new RegExp(KEY, 'g'))].map(([part]) => part.replace(/^["']|["']$/g, ''));
}

export class TomlLocator {
  readonly #lines = new Map<string, number>();

  constructor(text: string) {
    const arrayIndex = new Map<string, number>();
    let table = '';
    let multilineQuote: string | undefined;

    text.split(/\r?\n/).forEach((line, i) => {
      const lineNo = i + 1;
      if (multilineQuote) {
        if (line.includes(multilineQuote)) multilineQuote = undefined;
        return;
      }
      const header = HEADER.exec(line);
      if (header) {
        const name = splitKey(header[2]!).join('.');
        if (header[1] === '[[') {
          const index = (arrayIndex.get(name) ?? -1) + 1;
          arrayIndex.set(name, index);
          this.#remember(name, lineNo);
          table = `${name}[${index}]`;
        } else {
          table = this.#withArrayIndexes(name, arrayIndex);
        }
        this.#remember(table, lineNo);
        return;
      }
      const assignment = ASSIGNMENT.exec(line);
      if (assignment) {
        const key = splitKey(assignment[1]!).join('.');
        this.#remember(table ? `${table}.${key}` : key, lineNo);
        const rest = line.slice(assignment[0].length);
        const quote = /"""|'''/.exec(rest)?.[0];
        if (quote && rest.split(quote).length === 2) multilineQuote = quote;
      }
    });
  }

  /** The line of `path`, or of its nearest parent that the text names. */
  lineOf(path: string): number | undefined {
    let current = path;
    for (;;) {
      const line = this.#lines.get(current);
      if (line !== undefined) return line;
      const parent = current.replace(/(\[\d+\]|\.[^.[\]]+)$/, '');
      if (parent === current) return undefined;
      current = parent;
    }
  }

  #remember(path: string, line: number): void {
    if (!this.#lines.has(path)) this.#lines.set(path, line);
  }

  /** `[inputs.pythond.tags]` after `[[inputs.pythond]]` belongs to the latest element. */
  #withArrayIndexes(name: string, arrayIndex: Map<string, number>): string {
    let best = '';
    for (const arrayName of arrayIndex.keys()) {
      if ((name === arrayName || name.startsWith(`${arrayName}.`)) && arrayName.length > best.length) best = arrayName;
    }
    return best ? `${best}[${arrayIndex.get(best)}]${name.slice(best.length)}` : name;
  }
}
