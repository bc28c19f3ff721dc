// Every paging loop of the tests goes through collectPages, with a page budget: a pager that
// repeats a row can hand back the same cursor forever, and a loop that trusts it runs until the
// test times out (or for minutes) instead of failing. No imports, so scripts/chaos.ts (Node) can
// use it through test/bank/run.ts as the workers tests do.

/** One page of a pager: its items, and the cursor of the next page (null or undefined: none). */
export interface Page<T, C> {
  items: readonly T[];
  next: C | null | undefined;
}

/**
 * Every item of a pager, in the order its pages give them: `fetchPage(undefined)` first, then each
 * page asked with the cursor the one before named, until a page names none. Throws once more than
 * `maxPages` pages were asked for, naming the cursors of the last few.
 */
export async function collectPages<T, C>(
  fetchPage: (cursor: C | undefined) => Promise<Page<T, C>>,
  maxPages: number,
): Promise<T[]> {
  const items: T[] = [];
  const cursors: (C | undefined)[] = [];
  let cursor: C | undefined;
  for (let pages = 0; ; pages++) {
    if (pages >= maxPages) {
      // An iterable's pages have no cursor to show (iteratorPages names each next page `true`).
      const named = cursors.some((c) => c !== true)
        ? `; last cursors ${JSON.stringify(cursors.slice(-3))}`
        : "";
      throw new Error(
        `over the page budget: ${maxPages} pages read and the pager still names a next one ` +
          `(${items.length} items so far${named}): does it repeat a row?`,
      );
    }
    const page = await fetchPage(cursor);
    items.push(...page.items);
    if (page.next === null || page.next === undefined) return items;
    cursor = page.next;
    cursors.push(cursor);
  }
}

/**
 * The most pages collectPages may ask for `items` items `pageSize` at a time: every full page, a
 * last one part full or empty, and the end of an iterable (iteratorPages) asked for as one more.
 */
export function pageBudget(items: number, pageSize: number): number {
  return Math.floor(items / pageSize) + 2;
}

/**
 * An async iterable of pages (a generator such as the export's exportPages, or a stream's reader
 * read chunk by chunk) as a fetchPage for collectPages: each call takes the next page; the
 * iterable's end is the page naming no next one.
 */
export function iteratorPages<T>(pages: AsyncIterable<readonly T[]>): () => Promise<Page<T, true>> {
  const iterator = pages[Symbol.asyncIterator]();
  return async () => {
    const next = await iterator.next();
    return next.done ? { items: [], next: null } : { items: next.value, next: true };
  };
}
