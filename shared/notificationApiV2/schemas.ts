/** Wire shapes of the Notification API (Thales OneWelcome IDaaS), see UPSTREAM-RESEARCH §1 and seed 002. */
import { z } from 'zod';

export const SUBSCRIPTION_ID_PATTERN = /^[\p{L}0-9._-]+$/u;

export const tokenResponseSchema = z.looseObject({
  access_token: z.string().min(1),
  token_type: z.string().optional(),
  expires_in: z.coerce.number().positive().optional(),
  scope: z.string().optional(),
});

export const createSubscriptionRequestSchema = z.object({
  event_type_ids: z
    .array(z.string().min(1))
    .min(1, 'event_type_ids must not be empty')
    .refine((ids) => new Set(ids).size === ids.length, 'event_type_ids must be unique'),
  client_id: z.string().regex(SUBSCRIPTION_ID_PATTERN, 'client_id must match ^[\\p{L}0-9._-]+$'),
});
export type CreateSubscriptionRequest = z.infer<typeof createSubscriptionRequestSchema>;

const nullableString = z.string().nullish();

export const subscriptionSchema = z.looseObject({
  id: z.string().regex(SUBSCRIPTION_ID_PATTERN, 'subscription id must match ^[\\p{L}0-9._-]+$'),
  subscription: z
    .looseObject({
      client_id: z.string().optional(),
      event_type_ids: z.array(z.string()).optional(),
      subscribed_by: nullableString,
      subscription_date: nullableString,
      notification_url: nullableString,
      notification_page_size: z.number().nullish(),
    })
    .optional(),
  subscription_status: z
    .looseObject({
      last_request_date: nullableString,
      number_of_remaining_notifications: z.number().int().nonnegative().nullish(),
    })
    .optional(),
});
export type Subscription = z.infer<typeof subscriptionSchema>;

/** One notification: a v2 event; only `event_type_id` matters to the drain, the rest is carried untouched. */
export const notificationSchema = z.looseObject({
  event_type_id: z.union([z.string(), z.number()]).optional(),
  timestamp: z.string().optional(),
});

export const notificationsPageSchema = z.looseObject({
  page: z.number().int().nullish(),
  size: z.number().int().nullish(),
  results: z.array(z.unknown()),
});
export type NotificationsPage = { page?: number | null; size?: number | null; results: unknown[] };

export const errorBodySchema = z.looseObject({
  error_code: z.string().optional(),
  code: z.string().optional(),
  message: z.string().optional(),
  description: z.string().optional(),
  error: z.string().optional(),
  error_description: z.string().optional(),
});
