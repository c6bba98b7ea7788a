/**
 * What the Eptura Notification Pusher POSTs to a listener's notificationUrl (the ASP.NET WebHooks
 * "Custom" envelope): `{Id, Attempt, Properties, Notifications: [{Action, DynamicParamA}]}`.
 * Retries of one envelope carry the same `Id` and a higher `Attempt`.
 */
import { z } from 'zod';

export const pusherNotificationSchema = z.looseObject({
  /** The event type subscribed to, e.g. `DESK`, `VISITOR`. */
  Action: z.string().trim().min(1, 'must be a non-empty string').max(100),
  /** The notification message (encrypted by Eptura; base64 JSON from the sandbox). */
  DynamicParamA: z.string(),
});

export const pusherEnvelopeSchema = z.looseObject({
  Id: z.string().trim().min(1, 'must be a non-empty string').max(200),
  Attempt: z.number().int().min(0).optional(),
  Properties: z.record(z.string(), z.unknown()).nullable().optional(),
  Notifications: z.array(pusherNotificationSchema).min(1, 'must contain at least one notification').max(1000),
});

export type PusherNotification = z.infer<typeof pusherNotificationSchema>;
export type PusherEnvelope = z.infer<typeof pusherEnvelopeSchema>;
