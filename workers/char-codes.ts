/**
 * The character codes the write-body parsers (line protocol, JSON) compare
 * `charCodeAt` against. A const enum: tsc writes each use as its number, so
 * the parsers' hot loops compare against literals, not imported bindings
 * (which measured 6-8 % slower on a 100k-line body).
 */
// biome-ignore lint/suspicious/noConstEnum: inlined by tsc, which builds every file of this repository together
export const enum Char {
  Tab = 9,
  Lf = 10,
  Cr = 13,
  Space = 32,
  Quote = 34,
  Hash = 35,
  Comma = 44,
  Minus = 45,
  Dot = 46,
  Zero = 48,
  Nine = 57,
  Colon = 58,
  Equals = 61,
  OpenBracket = 91,
  Backslash = 92,
  CloseBracket = 93,
  OpenBrace = 123,
  CloseBrace = 125,
}
