import { z } from 'zod';

/** Settings of the noojee part (owned by its issue; see README settings table). */
export const noojeeSettings = z.object({});

/** Names of the settings above whose values are secrets. */
export const noojeeSecrets: readonly string[] = [];
