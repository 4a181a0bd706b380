/**
 * The metadata @nestjs/microservices leaves on a handler, read by its literal keys so that this
 * package loads without @nestjs/microservices: `PATTERN_METADATA` and `PATTERN_HANDLER_METADATA`
 * of `@nestjs/microservices/constants`, and its `PatternHandler` enum (MESSAGE = 1, EVENT = 2).
 */
export const PATTERN_METADATA = 'microservices:pattern';
const PATTERN_HANDLER_METADATA = 'microservices:handler_type';
const MESSAGE_HANDLER = 1;
const EVENT_HANDLER = 2;

// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const isMessageHandler = (handler: Function) => Reflect.getMetadata(PATTERN_HANDLER_METADATA, handler) === MESSAGE_HANDLER;
// eslint-disable-next-line @typescript-eslint/no-unsafe-function-type
export const isEventHandler = (handler: Function) => Reflect.getMetadata(PATTERN_HANDLER_METADATA, handler) === EVENT_HANDLER;
