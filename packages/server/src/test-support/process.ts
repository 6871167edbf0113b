import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';

/** The real `protocol` bin, as `npm start` runs it (built by `npm run build`, which `npm test` runs first). */
export const BIN = fileURLToPath(new URL('../../bin/protocol.js', import.meta.url));

export interface ProtocolProcess {
  child: ChildProcess;
  url: string;
  stdout(): string;
  stderr(): string;
  /** Sends a signal and resolves with the exit code. */
  stop(signal?: NodeJS.Signals): Promise<number | null>;
}

/** Runs `protocol <args>` to completion. */
export function runCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ code: number | null; stdout: string; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('exit', (code) => resolve({ code, stdout, stderr }));
  });
}

/**
 * Starts `protocol serve` (or another long-running command) and waits until it prints its URL
 * (or whatever `ready` matches; its first group is taken as the URL).
 */
export function startProtocol(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 20_000, ready = /running at (http:\/\/\S+)/): Promise<ProtocolProcess> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [BIN, ...args], { env: { ...process.env, PORT: '0', PROTOCOL_LOG_LEVEL: 'warn', ...env } });
    let stdout = '';
    let stderr = '';
    const exited = new Promise<number | null>((done) => child.on('exit', (code) => done(code)));
    const timer = setTimeout(() => {
      child.kill('SIGKILL');
      reject(new Error(`protocol did not start in ${timeoutMs} ms:\n${stdout}\n${stderr}`));
    }, timeoutMs);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`protocol exited with ${code} before starting:\n${stdout}\n${stderr}`));
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      const match = ready.exec(stdout);
      if (match && /\n/.test(stdout.slice(stdout.indexOf(match[0])))) {
        clearTimeout(timer);
        resolve({
          child,
          url: match[1]!,
          stdout: () => stdout,
          stderr: () => stderr,
          stop: (signal = 'SIGTERM') => {
            if (child.exitCode === null && child.signalCode === null) child.kill(signal);
            return exited;
          },
        });
      }
    });
  });
}
