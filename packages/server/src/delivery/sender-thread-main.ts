// The sender thread (see sender-thread.ts): runs the in-process sender and answers in batches.
import { parentPort, workerData } from 'node:worker_threads';
import { createSender, type Sendable, type SenderOptions } from './sender.js';
import { packAnswer, unpackSends, type FromThread, type Packed, type ToThread } from './sender-thread.js';

const port = parentPort!;
const sender = createSender<Sendable>(workerData as SenderOptions);
let done: Packed = [];

const flush = () => {
  const batch = done;
  done = [];
  port.postMessage({ type: 'sent', batch } satisfies FromThread);
};

port.on('message', async (message: ToThread) => {
  if (message.type === 'send') {
    for (const [id, delivery] of unpackSends(message.batch)) {
      void sender.send(delivery).then((attempt) => {
        // Every answer that completes in this turn of the event loop goes back in one message.
        if (done.length === 0) setImmediate(flush);
        packAnswer(done, id, attempt);
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
