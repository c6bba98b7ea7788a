import { z } from 'zod';

/** Settings of the notifications part (owned by its issue; see README settings table). */
export const notificationsSettings = z.object({});

/** Names of the settings above whose values are secrets. */
export const notificationsSecrets: readonly string[] = [];
