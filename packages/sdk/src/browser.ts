/**
 * What a browser may import: the API client and the types, without the Node-only webhook
 * signing (node:crypto). The dashboard uses this entry.
 */
export * from './resources.js';
export * from './events.js';
export * from './params.js';
export * from './client.js';
