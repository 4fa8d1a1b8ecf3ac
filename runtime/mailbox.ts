/**
 * mailbox — a bounded FIFO of messages waiting for one actor.
 *
 * Owns: a fixed-capacity circular buffer. `push` says whether the item was queued;
 * a full mailbox refuses instead of growing.
 * Must never: grow past its capacity or reorder items.
 */

export class Mailbox<T> {
  private readonly items: (T | undefined)[];
  private head = 0;
  private count = 0;

  constructor(readonly capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) {
      throw new RangeError(`mailbox capacity must be a positive integer, got ${capacity}`);
    }
    this.items = new Array<T | undefined>(capacity);
  }

  get size(): number {
    return this.count;
  }

  /** Queue an item; false when the mailbox is full. */
  push(item: T): boolean {
    if (this.count === this.capacity) {
      return false;
    }
    this.items[(this.head + this.count) % this.capacity] = item;
    this.count++;
    return true;
  }

  shift(): T | undefined {
    if (this.count === 0) {
      return undefined;
    }
    const item = this.items[this.head];
    this.items[this.head] = undefined;
    this.head = (this.head + 1) % this.capacity;
    this.count--;
    return item;
  }

  /** Remove and return everything queued, oldest first. */
  drain(): T[] {
    const out: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) {
      out.push(item);
    }
    return out;
  }
}
