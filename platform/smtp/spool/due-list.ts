/** The queue's due list: messages waiting for a delivery slot, first in first out. */

/**
 * Entries due for delivery, first in first out. Array#shift moves every element on the large
 * arrays a backlog makes (tens of thousands of entries after a burst), so the head is an index.
 * Holds anything with a `dueSince` (the queue's entries), which it stamps when the entry joins.
 */
export class DueList<T extends { dueSince: number }> {
  #items: (T | undefined)[] = [];
  #head = 0;
  #members = new Set<T>();

  get length(): number {
    return this.#members.size;
  }

  has(e: T): boolean {
    return this.#members.has(e);
  }

  push(e: T): void {
    if (this.#members.has(e)) return;
    e.dueSince = performance.now();
    this.#members.add(e);
    this.#items.push(e);
  }

  peek(): T | undefined {
    return this.#items[this.#head];
  }

  shift(): T | undefined {
    const e = this.#items[this.#head];
    if (!e) return undefined;
    this.#items[this.#head++] = undefined;
    this.#members.delete(e);
    if (this.#head >= 1024 && this.#head * 2 >= this.#items.length) {
      this.#items = this.#items.slice(this.#head);
      this.#head = 0;
    }
    return e;
  }
}
