/**
 * Runs `call` and settles within `timeoutMs` whatever the call does. The AWS SDK honours an abort
 * signal only in its HTTP handler: a credentials provider or a middleware that stalls before the
 * socket holds the call past the signal, and each of the SDK's retries again (an 8 s stall took a
 * call bounded at 1 s 24 s). So the bound is a race: at `timeoutMs` the caller gets `timedOut()`,
 * and the signal is aborted as well, which releases the socket and keeps a request not yet on it
 * from ever being sent. What the call answers after that is dropped: no caller ever sees it.
 *
 * `abandon`, when it aborts first, ends the call the same way with its reason (a store that
 * disconnects abandons its calls in flight).
 */
export function withinBound<T>(
  timeoutMs: number,
  call: (signal: AbortSignal) => Promise<T>,
  timedOut: () => Error,
  abandon?: AbortSignal,
): Promise<T> {
  const controller = new AbortController();
  return new Promise<T>((resolve, reject) => {
    const end = (reason: unknown) => {
      if (controller.signal.aborted) return;
      clearTimeout(timer);
      abandon?.removeEventListener('abort', onAbandon);
      controller.abort(reason);
      reject(reason);
    };
    const onAbandon = () => end(abandon!.reason);
    const timer = setTimeout(() => end(timedOut()), timeoutMs);
    if (abandon?.aborted) return onAbandon();
    abandon?.addEventListener('abort', onAbandon, { once: true });
    const settle = () => {
      clearTimeout(timer);
      abandon?.removeEventListener('abort', onAbandon);
    };
    let running: Promise<T>;
    try {
      running = call(controller.signal);
    } catch (error) {
      settle();
      return reject(error);
    }
    running.then(
      (value) => {
        if (controller.signal.aborted) return;
        settle();
        resolve(value);
      },
      (error: unknown) => {
        if (controller.signal.aborted) return;
        settle();
        reject(error);
      },
    );
  });
}
