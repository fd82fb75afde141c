import { NoServerError, type SelectFunction, type SelectRequest, type Selector, type ServiceEntry } from '@rpcx/core';
import { filterServers } from '@rpcx/selector';

export interface ServerSelectionOptions {
  /** Told of every change of the (filtered) list. */
  selector: Selector;
  /** The selector's `select`, wrapped by plugins' `wrapSelect`. */
  select: SelectFunction;
  /** Use only servers whose `group` metadata contains this. */
  group?: string;
  /** Keep the selected server while `isOpen(key)` says its connection is open. */
  sticky: boolean;
  isOpen(key: string): boolean;
  /** How long a server whose dial failed is passed over (Go `TimeToDisallow`); 0 = never. */
  timeToDisallowMs: number;
}

/** How often the selector is asked again for a server that is not to be avoided. */
const RESELECTS = 3;

/**
 * The servers of one XClient and the choice among them: the discovery's list, filtered (Go
 * `filterByStateAndGroup`) and sorted by key, handed to the selector; sticky routing; servers
 * avoided for the rest of a call (Failover) or for a while after a failed dial.
 */
export class ServerSelection {
  private list = new Map<string, string>();
  private stickyKey: string | undefined;
  /** Server key → `performance.now()` until which it is passed over. */
  private readonly disallowed = new Map<string, number>();

  constructor(private readonly options: ServerSelectionOptions) {}

  /** The servers in use: key → metadata. */
  get servers(): ReadonlyMap<string, string> {
    return this.list;
  }

  /** Replace the list with the discovery's `entries`; returns the filtered list. */
  update(entries: readonly ServiceEntry[]): ReadonlyMap<string, string> {
    const sorted = new Map<string, string>();
    for (const e of [...entries].sort((a, b) => (a.key < b.key ? -1 : a.key > b.key ? 1 : 0))) sorted.set(e.key, e.value);
    this.list = filterServers(sorted, { group: this.options.group });
    this.options.selector.updateServers(this.list);
    if (this.stickyKey && !this.list.has(this.stickyKey)) this.stickyKey = undefined;
    for (const key of this.disallowed.keys()) if (!this.list.has(key)) this.disallowed.delete(key);
    return this.list;
  }

  /** Pass `key` over for `timeToDisallowMs` (after a failed dial). */
  disallow(key: string): void {
    if (this.options.timeToDisallowMs > 0) this.disallowed.set(key, performance.now() + this.options.timeToDisallowMs);
  }

  /**
   * A server for `request`. Servers in `avoid` (those that failed earlier in this call) and
   * disallowed ones are passed over while another is available: the selector is asked again a
   * few times, then the first other listed server is taken; when every server is to be
   * avoided, the selector's choice stands. Throws `NoServerError` when there is none.
   */
  pick(request: SelectRequest, avoid?: ReadonlySet<string>): string {
    const { sticky, isOpen } = this.options;
    if (sticky && this.stickyKey && isOpen(this.stickyKey) && !avoid?.has(this.stickyKey)) return this.stickyKey;
    let key = this.selectOnce(request);
    if (!this.usable(key, avoid)) key = this.reselect(request, key, avoid);
    if (sticky) this.stickyKey = key;
    return key;
  }

  private selectOnce(request: SelectRequest): string {
    const key = this.list.size === 0 ? undefined : this.options.select(request);
    if (!key) throw new NoServerError();
    return key;
  }

  private reselect(request: SelectRequest, first: string, avoid: ReadonlySet<string> | undefined): string {
    for (let i = 1; i < RESELECTS; i++) {
      const key = this.selectOnce(request);
      if (this.usable(key, avoid)) return key;
    }
    for (const key of this.list.keys()) if (this.usable(key, avoid)) return key;
    return first;
  }

  private usable(key: string, avoid: ReadonlySet<string> | undefined): boolean {
    if (avoid?.has(key)) return false;
    if (this.disallowed.size === 0) return true;
    const until = this.disallowed.get(key);
    if (until === undefined) return true;
    if (performance.now() < until) return false;
    this.disallowed.delete(key);
    return true;
  }
}
