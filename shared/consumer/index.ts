/** Typed queue consumers (see define.ts). */
export { consumerSpec, defineConsumer, defineLazyConsumer, STORAGE_CONNECTION } from './define';
export type { ConsumerEvent, ConsumerSchemas, ConsumerSpec, ConsumerTrigger, QueueMessageInfo } from './define';
export { InvalidMessageError } from './errors';
