// The sender thread (see sender-thread.ts): runs the in-process sender and answers in batches.
import { parentPort, workerData } from 'node:worker_threads';
import { createSender, type SenderOptions } from './sender.js';
import type { FromThread, ToThread } from './sender-thread.js';

const port = parentPort!;
const sender = createSender(workerData as SenderOptions);
let done: Extract<FromThread, { type: 'sent' }>['batch'] = [];

const flush = () => {
  const batch = done;
  done = [];
  port.postMessage({ type: 'sent', batch } satisfies FromThread);
};

port.on('message', async (message: ToThread) => {
  if (message.type === 'send') {
    for (const [id, delivery] of message.batch) {
      void sender.send(delivery).then(({ delivery: _sent, ...attempt }) => {
        // Every answer that completes in this turn of the event loop goes back in one message.
        if (done.length === 0) setImmediate(flush);
        done.push([id, attempt]);
      });
    }
  } else if (message.type === 'abort-all') {
    sender.abortAll();
  } else {
    await sender.close();
    port.postMessage({ type: 'closed' } satisfies FromThread);
  }
});
port.postMessage({ type: 'ready' } satisfies FromThread);
