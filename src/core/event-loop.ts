/** Lets pending I/O run: long synchronous work (big refreshes) calls this between chunks so requests keep flowing. */
export const yieldToEventLoop = (): Promise<void> => new Promise((resolve) => setImmediate(resolve));
