import pino, { type Logger } from 'pino';

/**
 * JSON logs on stdout. Credentials are redacted wherever they could appear: request headers
 * (API keys), and any field named like a key or secret.
 */
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'headers.cookie',
  '*.apiKey',
  '*.api_key',
  '*.secret',
  '*.key',
  'apiKey',
  'secret',
  'key',
];

export function createLogger(level: string, destination?: pino.DestinationStream): Logger {
  return pino({ level, redact: { paths: REDACT_PATHS, censor: '[redacted]' } }, destination);
}
