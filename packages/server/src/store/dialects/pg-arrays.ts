/**
 * The batch writes' array parameters on PostgreSQL (`unnest`, compiled.ts), as array literals
 * that JSON.stringify writes where it writes what pg would, and left to pg otherwise.
 *
 * pg builds an array literal in JavaScript, two regular-expression replaces per element
 * (`arrayString` in pg/lib/utils.js). For the attempts' header columns, JSON text full of quotes,
 * that was ~6% of a PostgreSQL worker's busy time at saturation; with JSON.stringify (native) an
 * attempt row's arrays take 3.9 µs instead of 6.9 (session 25).
 *
 * Why it is the same literal: JSON escapes `"` and `\` with a backslash, as an array literal's
 * quoted elements do, and writes null and finite numbers as PostgreSQL reads them unquoted. Its
 * other escapes are not an array literal's: a control character (`\n`, `\u0001`) or an unpaired
 * surrogate (`\ud83c`) would come back as `n` or `ud83c`. So an array holding a string with a
 * control character or any surrogate (paired ones too: one character class keeps the test simple,
 * and an emoji in what is recorded is rare), or any value but a string, a finite number or null,
 * goes to pg as it did before.
 */
const ESCAPED_OTHERWISE = /[\u0000-\u001f\ud800-\udfff]/;

export function arrayParameter(values: readonly unknown[]): string | readonly unknown[] {
  for (const value of values) {
    if (value === null || (typeof value === 'number' && Number.isFinite(value))) continue;
    if (typeof value !== 'string' || ESCAPED_OTHERWISE.test(value)) return values;
  }
  return `{${JSON.stringify(values).slice(1, -1)}}`;
}
