import { customAlphabet } from 'nanoid';

const ALPHANUMERIC = '0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz';

/** Object ids: 16 alphanumeric characters from a CSPRNG (~95 bits), e.g. `WAz8eIbvDR60rouK`. */
export const newId = customAlphabet(ALPHANUMERIC, 16);

/** Secrets that are capabilities by themselves (API keys, file URLs): 32 characters, ~190 bits. */
export const newToken = customAlphabet(ALPHANUMERIC, 32);
