/**
 * A job run every `everyMs` from `start` until `stop` (the first after `firstAfterMs`, by default
 * `everyMs`): each run counted from the end of the last, so two never overlap. A run that fails
 * goes to `onError`, and the next comes at the usual time. `stop` waits for a run in progress; a
 * run may end early by checking `stopping`.
 */
export function periodic(job: () => Promise<unknown>, options: { everyMs: number; firstAfterMs?: number; onError: (error: unknown) => void }) {
  let timer: NodeJS.Timeout | undefined;
  let running: Promise<unknown> | undefined;
  let stopping = false;

  const tick = () => {
    running = job()
      .catch(options.onError)
      .finally(() => {
        running = undefined;
        if (!stopping) timer = setTimeout(tick, options.everyMs);
      });
  };

  return {
    get stopping() {
      return stopping;
    },
    start() {
      stopping = false;
      timer = setTimeout(tick, options.firstAfterMs ?? options.everyMs);
    },
    async stop() {
      stopping = true;
      clearTimeout(timer);
      await running;
    },
  };
}
