export * from './resources.js';
export * from './events.js';
export * from './params.js';
