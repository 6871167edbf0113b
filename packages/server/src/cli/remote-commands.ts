import { EVENT_TYPES, isEventType, type EventType } from '@protocol/sdk';
import { Command, Option } from 'commander';
import { listen } from './listen.js';
import { CliError, explain, isoTime, printJson, printTable, remoteFromEnv, type Remote } from './remote.js';
import { trigger } from './trigger.js';

const ENV_HELP = '\nTalks to the server at PROTOCOL_URL (default http://127.0.0.1:8080) with the key in PROTOCOL_API_KEY.';

function eventList(value: string): EventType[] {
  const types = value.split(',').map((t) => t.trim()).filter(Boolean);
  const unknown = types.find((t) => !isEventType(t));
  if (unknown || types.length === 0) throw new CliError(`Unknown event type '${unknown ?? value}'. One of: ${EVENT_TYPES.join(', ')}`);
  return types as EventType[];
}

/** Runs a command against the remote server, turning failures into one clear line and exit code 1. */
function remoteAction<A extends unknown[]>(work: (remote: Remote, ...args: A) => Promise<void>) {
  return async (...args: A) => {
    let remote: Remote | undefined;
    try {
      remote = remoteFromEnv();
      await work(remote, ...args);
    } catch (error) {
      process.stderr.write(`protocol: ${explain(error, remote)}\n`);
      process.exitCode = 1;
    }
  };
}

const jsonOption = () => new Option('--json', 'print JSON instead of a table');

export function addRemoteCommands(program: Command): void {
  program
    .command('listen')
    .description('receive webhooks locally: registers a temporary webhook, verifies and prints each event, optionally forwards it')
    .option('--forward-to <url>', 'forward each delivery (exact body and headers) to this URL, e.g. http://localhost:3000/webhooks')
    .option('--events <types>', 'comma-separated event types (default: all 15)')
    .addHelpText('after', ENV_HELP)
    .action(
      remoteAction(async (remote, options: { forwardTo?: string; events?: string }) => {
        if (options.forwardTo && !/^https?:\/\//.test(options.forwardTo)) throw new CliError(`--forward-to must be an http(s) URL, got '${options.forwardTo}'`);
        const events = options.events ? eventList(options.events) : undefined;
        const session = await listen(remote, { forwardTo: options.forwardTo, events });
        process.stdout.write(
          `Ready! Listening for ${events ? events.join(', ') : 'all events'} on ${session.url} (webhook ${session.webhookId})\n` +
            `${options.forwardTo ? `Forwarding to ${options.forwardTo}\n` : ''}` +
            `Webhook signing secret: ${session.secret}\nPress Ctrl-C to stop and remove the webhook.\n`,
        );
        await new Promise<void>((resolve) => {
          const stop = () => void session.stop().then(resolve);
          process.once('SIGINT', stop);
          process.once('SIGTERM', stop);
        });
        process.stdout.write('Stopped; the temporary webhook was deleted.\n');
        // Idle keep-alive sockets of the API client would hold the process open a few seconds more.
        process.exit(0);
      }),
    );

  program
    .command('trigger')
    .description('make the real API changes that fire an event type (for *.deleted: create, then delete)')
    .argument('<type>', `one of: ${EVENT_TYPES.join(', ')}`)
    .addHelpText('after', ENV_HELP)
    .action(
      remoteAction(async (remote, type: string) => {
        for (const line of await trigger(remote.client, type)) process.stdout.write(`${line}\n`);
        process.stdout.write(`Triggered ${type}.\n`);
      }),
    );

  const webhooks = program.command('webhooks').description('manage webhooks').addHelpText('after', ENV_HELP);
  webhooks
    .command('list')
    .description('list webhooks')
    .addOption(jsonOption())
    .action(
      remoteAction(async (remote, options: { json?: boolean }) => {
        const all = [];
        for await (const webhook of remote.client.webhooks.list({ limit: 100 })) all.push(webhook);
        if (options.json) return printJson(all);
        printTable(
          ['ID', 'NAME', 'URL', 'EVENTS', 'STATUS'],
          all.map((w) => [w.id, w.name, w.url, w.events.length === EVENT_TYPES.length ? 'all' : w.events.join(','), w.enabled ? 'enabled' : `disabled: ${w.disabled_reason}`]),
        );
      }),
    );
  webhooks
    .command('create')
    .description('register a webhook; prints its secret once')
    .requiredOption('--name <name>', 'a name for people')
    .requiredOption('--url <url>', 'where deliveries are POSTed')
    .requiredOption('--events <types>', 'comma-separated event types')
    .addOption(jsonOption())
    .action(
      remoteAction(async (remote, options: { name: string; url: string; events: string; json?: boolean }) => {
        const webhook = await remote.client.webhooks.create({ name: options.name, url: options.url, events: eventList(options.events) });
        if (options.json) return printJson(webhook);
        process.stdout.write(`Created webhook ${webhook.id} (${webhook.name}) → ${webhook.url}\nEvents: ${webhook.events.join(', ')}\nSigning secret (shown only now): ${webhook.secret}\n`);
      }),
    );
  webhooks
    .command('delete')
    .description('delete a webhook and its delivery history')
    .argument('<id>', 'the webhook id')
    .action(
      remoteAction(async (remote, id: string) => {
        await remote.client.webhooks.delete(id);
        process.stdout.write(`Deleted webhook ${id}\n`);
      }),
    );
  webhooks
    .command('test')
    .description('send a signed example event to a webhook now')
    .argument('<id>', 'the webhook id')
    .option('--type <type>', 'the event type (default: its first subscribed type)')
    .addOption(jsonOption())
    .action(
      remoteAction(async (remote, id: string, options: { type?: string; json?: boolean }) => {
        const type = options.type ? eventList(options.type)[0] : undefined;
        const delivery = await remote.client.webhooks.test(id, type ? { type } : {});
        if (options.json) return printJson(delivery);
        process.stdout.write(`Queued a test ${delivery.event_type} event as delivery ${delivery.id}\n`);
      }),
    );

  const events = program.command('events').description('read the events log').addHelpText('after', ENV_HELP);
  events
    .command('list')
    .description('list recent events, newest first')
    .option('--type <type>', 'only this event type')
    .option('--limit <n>', 'how many (1-100)', '20')
    .addOption(jsonOption())
    .action(
      remoteAction(async (remote, options: { type?: string; limit: string; json?: boolean }) => {
        const limit = Number(options.limit);
        if (!Number.isInteger(limit) || limit < 1 || limit > 100) throw new CliError('--limit must be a whole number from 1 to 100');
        const type = options.type ? eventList(options.type)[0] : undefined;
        const page = await remote.client.events.list({ limit, ...(type && { type }) });
        if (options.json) return printJson(page.data);
        printTable(['ID', 'TYPE', 'OBJECT', 'CREATED'], page.data.map((e) => [e.id, e.type, (e.payload as { id: string }).id, isoTime(e.created_at)]));
      }),
    );
}
