export * from './resources.js';
export * from './events.js';
export * from './params.js';
export * from './webhooks.js';
export * from './client.js';
