import { z } from 'zod';

/** Settings of the engage part (owned by its issue; see README settings table). */
export const engageSettings = z.object({});

/** Names of the settings above whose values are secrets. */
export const engageSecrets: readonly string[] = [];
