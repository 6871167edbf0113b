export * from './webhooks/sign.js';
export * from './webhooks/verify.js';
