/** Durations as the env vars write them: `500ms`, `5s`, `5m`, `2h`, `30d`. Pure, so config and tests share it. */
const UNIT_MS = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 } as const;

export function parseDuration(text: string): number | undefined {
  const match = /^\s*(\d+(?:\.\d+)?)\s*(ms|s|m|h|d)\s*$/.exec(text);
  if (!match) return undefined;
  return Math.round(Number(match[1]) * UNIT_MS[match[2] as keyof typeof UNIT_MS]);
}

/** A comma-separated list of durations, e.g. the retry schedule `5s,5m,30m`. */
export function parseDurationList(text: string): number[] | undefined {
  const parts = text.split(',').map((part) => parseDuration(part));
  return parts.every((ms): ms is number => ms !== undefined) ? parts : undefined;
}
