/**
 * Runs tasks strictly one after another, in arrival order. A Durable Object's input gate is
 * open while it awaits D1 (outside I/O), so without this two requests for one player could
 * interleave their read-decide-write steps. A failed task does not stop the ones behind it.
 */
export class SerialQueue {
  #tail: Promise<unknown> = Promise.resolve();

  run<T>(task: () => Promise<T>): Promise<T> {
    const result = this.#tail.then(task);
    this.#tail = result.catch(() => undefined);
    return result;
  }
}
