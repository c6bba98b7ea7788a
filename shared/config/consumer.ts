import { z } from 'zod';

/** Settings of the consumer part (owned by its issue; see README settings table). */
export const consumerSettings = z.object({});

/** Names of the settings above whose values are secrets. */
export const consumerSecrets: readonly string[] = [];
