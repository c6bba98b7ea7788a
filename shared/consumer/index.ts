/** Typed queue consumers (see define.ts). */
export { consumerHandler, consumerSpec, defineConsumer, defineLazyConsumer, lazyConsumerHandler, STORAGE_CONNECTION } from './define';
export type { ConsumerEvent, ConsumerSchemas, ConsumerSpec, ConsumerTrigger, QueueMessageInfo } from './define';
export { InvalidMessageError } from './errors';
