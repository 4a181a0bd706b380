// The trace points sit in store/, below the store and the cache that publish through them; observability/
// keeps this path for the bridge and the public types that subscribe to them.
export * from '../store/trace-points.js';
