/** A power-loss simulator behind the spool's file-system seam: what was not synced lives in a volatile layer a crash drops. */
import type { OpenFlags, SpoolFile, SpoolFs } from "../../platform/smtp/spool/fs.ts";

/** A change to a file's data not yet covered by a sync of that file. */
type FileOp = { kind: "write"; position: number; bytes: Buffer } | { kind: "truncate"; length: number };

/** A change to a directory's entries not yet covered by a sync of that directory. */
type DirOp =
  | { kind: "link"; name: string; node: Node }
  | { kind: "unlink"; name: string }
  | { kind: "rename"; from: string; to: string; node: Node };

interface FileNode {
  kind: "file";
  /** What reads see now (page cache). `size` may pass `data.length`: the rest reads as zeros (sparse). */
  data: Buffer;
  size: number;
  /** What the disk holds. */
  durable: { data: Buffer; size: number };
  pending: FileOp[];
}

interface DirNode {
  kind: "dir";
  entries: Map<string, Node>;
  durable: Map<string, Node>;
  pending: DirOp[];
}

type Node = FileNode | DirNode;

/**
 * What survives a crash of the volatile layer:
 * - `lose-all`: nothing that was not synced (the classic power cut);
 * - `keep-all`: everything (as if only the process died: SIGKILL);
 * - `{ seed }`: per file, each unsynced write is kept or dropped at random, and the last one kept
 *   may be torn at any byte; per directory, a random prefix of its unsynced operations is kept
 *   (Linux's journaling file systems commit one directory's operations in order).
 */
export type CrashMode = "lose-all" | "keep-all" | { seed: number };

/** Which file-system calls count as I/O points (places a crash may hit). */
export type IoKind = "write" | "truncate" | "sync" | "syncDir" | "create" | "mkdir" | "rename" | "unlink";

/** One I/O point, for reports. */
export interface IoPoint {
  kind: IoKind;
  path: string;
}

function errno(code: string, message: string): NodeJS.ErrnoException {
  return Object.assign(new Error(`${code}: ${message}`), { code });
}

/** A small deterministic generator (mulberry32), so a failing crash image can be rebuilt from its seed. */
function random(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function writeInto(target: { data: Buffer; size: number }, position: number, bytes: Buffer): void {
  const end = position + bytes.length;
  if (end > target.data.length) {
    const grown = Buffer.alloc(Math.max(end, target.data.length * 2));
    target.data.copy(grown, 0, 0, target.data.length);
    target.data = grown;
  }
  bytes.copy(target.data, position);
  target.size = Math.max(target.size, end);
}

function truncateTo(target: { data: Buffer; size: number }, length: number): void {
  if (length < target.data.length) target.data.fill(0, length);
  target.size = length;
}

function contentOf(f: { data: Buffer; size: number }): Buffer {
  const out = Buffer.alloc(f.size);
  f.data.copy(out, 0, 0, Math.min(f.size, f.data.length));
  return out;
}

const newDir = (): DirNode => ({ kind: "dir", entries: new Map(), durable: new Map(), pending: [] });

/**
 * An in-memory file system that models a power cut, after SQLite's crash-test VFS: every write not
 * yet synced — file data, and directory entries (creates, renames, unlinks) not yet covered by a sync
 * of their directory — is volatile. `crashAt` stops the machine at the n-th I/O point (a write or a
 * directory operation in flight is applied to the volatile layer, a sync in flight has no effect);
 * from then on every call hangs (async) or throws EIO (sync), and {@link PowerLossFs.afterCrash}
 * builds the disk a reboot would find.
 *
 * @example
 * const fs = new PowerLossFs({ crashAt: 17, onCrash: () => crashed.resolve() });
 * // … run the workload with `fs` until `crashed` …
 * const rebooted = fs.afterCrash("lose-all");
 */
export class PowerLossFs implements SpoolFs {
  readonly #root: DirNode;
  readonly #crashAt: number;
  readonly #onCrash: () => void;
  readonly #fds = new Map<number, Handle>();
  #nextFd = 100;
  /** I/O points passed so far. */
  points = 0;
  /** Every I/O point, when `record` was set. */
  readonly log: IoPoint[] = [];
  readonly #record: boolean;
  crashed = false;

  /**
   * @param opts.crashAt the I/O point (1-based) at which the power goes; default never.
   * @param opts.onCrash told once when it goes.
   * @param opts.record keep a log of the I/O points; default false.
   */
  constructor(opts: { crashAt?: number; onCrash?: () => void; record?: boolean; root?: DirNode } = {}) {
    this.#root = opts.root ?? newDir();
    this.#crashAt = opts.crashAt ?? Number.POSITIVE_INFINITY;
    this.#onCrash = opts.onCrash ?? (() => {});
    this.#record = opts.record ?? false;
  }

  /**
   * Counts an I/O point; at the crash point applies `effect` when it is a write (in flight) and
   * cuts the power. Returns false once the power is off (the caller must not go on).
   */
  #point(kind: IoKind, path: string, effect: () => void): boolean {
    if (this.crashed) return false;
    this.points++;
    if (this.#record) this.log.push({ kind, path });
    if (this.points === this.#crashAt) {
      if (kind !== "sync" && kind !== "syncDir") effect();
      this.crashed = true;
      this.#onCrash();
      return false;
    }
    effect();
    return true;
  }

  /** A promise that never settles: the machine is off. */
  #hang<T>(): Promise<T> {
    return new Promise<T>(() => {});
  }

  #dead(): never {
    throw errno("EIO", "the power is off");
  }

  #split(path: string): string[] {
    return path.split("/").filter((p) => p !== "" && p !== ".");
  }

  #lookup(path: string): Node | undefined {
    let node: Node = this.#root;
    for (const part of this.#split(path)) {
      if (node.kind !== "dir") return undefined;
      const next: Node | undefined = part === ".." ? undefined : node.entries.get(part);
      if (!next) return undefined;
      node = next;
    }
    return node;
  }

  #parent(path: string): { dir: DirNode; name: string } {
    const parts = this.#split(path);
    const name = parts.pop();
    const dir = this.#lookup(`/${parts.join("/")}`);
    if (!name || !dir) throw errno("ENOENT", `no such file or directory, ${path}`);
    if (dir.kind !== "dir") throw errno("ENOTDIR", `not a directory, ${path}`);
    return { dir, name };
  }

  #file(path: string): FileNode {
    const node = this.#lookup(path);
    if (!node) throw errno("ENOENT", `no such file or directory, ${path}`);
    if (node.kind !== "file") throw errno("EISDIR", `illegal operation on a directory, ${path}`);
    return node;
  }

  #dirOp(dir: DirNode, op: DirOp): void {
    if (op.kind === "link") dir.entries.set(op.name, op.node);
    else if (op.kind === "unlink") dir.entries.delete(op.name);
    else {
      dir.entries.delete(op.from);
      dir.entries.set(op.to, op.node);
    }
    dir.pending.push(op);
  }

  #openNode(path: string, flags: OpenFlags): FileNode | undefined {
    if (flags === "r" || flags === "r+") return this.#file(path);
    const existing = this.#lookup(path);
    if (existing) {
      if (flags === "wx" || flags === "wx+") throw errno("EEXIST", `file already exists, ${path}`);
      if (existing.kind !== "file") throw errno("EISDIR", `illegal operation on a directory, ${path}`);
      if (flags === "w") {
        if (!this.#point("truncate", path, () => this.#fileOp(existing, { kind: "truncate", length: 0 })))
          return undefined;
      }
      return existing;
    }
    const { dir, name } = this.#parent(path);
    const node: FileNode = {
      kind: "file",
      data: Buffer.alloc(0),
      size: 0,
      durable: { data: Buffer.alloc(0), size: 0 },
      pending: [],
    };
    if (!this.#point("create", path, () => this.#dirOp(dir, { kind: "link", name, node }))) return undefined;
    return node;
  }

  #fileOp(node: FileNode, op: FileOp): void {
    if (op.kind === "write") writeInto(node, op.position, op.bytes);
    else truncateTo(node, op.length);
    node.pending.push(op);
  }

  /** Writes `buffers` at `position` as one I/O point; the bytes written, or undefined at the crash. */
  #write(handle: Handle, buffers: readonly Buffer[], position: number | undefined): number | undefined {
    const node = handle.node;
    const at = handle.append ? node.size : (position ?? handle.position);
    const bytes = Buffer.concat(buffers.map((b) => Buffer.from(b.buffer, b.byteOffset, b.byteLength)));
    if (!this.#point("write", handle.path, () => this.#fileOp(node, { kind: "write", position: at, bytes })))
      return undefined;
    if (position === undefined || handle.append) handle.position = at + bytes.length;
    return bytes.length;
  }

  #sync(handle: Handle): boolean {
    const node = handle.node;
    return this.#point("sync", handle.path, () => {
      node.durable = { data: contentOf(node), size: node.size };
      node.pending = [];
    });
  }

  #handle(path: string, node: FileNode, flags: OpenFlags): Handle {
    return { path, node, append: flags === "a", position: 0 };
  }

  #spoolFile(handle: Handle): SpoolFile {
    return {
      writev: (buffers, position) => {
        const n = this.#write(handle, buffers, position);
        return n === undefined ? this.#hang() : Promise.resolve({ bytesWritten: n });
      },
      read: (buffer, offset, length, position) => {
        if (this.crashed) return this.#hang();
        const content = contentOf(handle.node);
        const n = Math.max(0, Math.min(length, content.length - position));
        content.copy(buffer, offset, position, position + n);
        return Promise.resolve({ bytesRead: n });
      },
      datasync: () => (this.#sync(handle) ? Promise.resolve() : this.#hang()),
      sync: () => (this.#sync(handle) ? Promise.resolve() : this.#hang()),
      truncate: (length) =>
        this.#point("truncate", handle.path, () => this.#fileOp(handle.node, { kind: "truncate", length }))
          ? Promise.resolve()
          : this.#hang(),
      close: () => (this.crashed ? this.#hang() : Promise.resolve()),
    };
  }

  async open(path: string, flags: OpenFlags): Promise<SpoolFile> {
    if (this.crashed) return this.#hang();
    const node = this.#openNode(path, flags);
    if (!node) return this.#hang();
    return this.#spoolFile(this.#handle(path, node, flags));
  }

  async readFile(path: string): Promise<Buffer> {
    if (this.crashed) return this.#hang();
    return contentOf(this.#file(path));
  }

  async writeFile(path: string, data: string | Buffer): Promise<void> {
    if (this.crashed) return this.#hang();
    const node = this.#openNode(path, "w");
    if (!node) return this.#hang();
    const bytes = typeof data === "string" ? Buffer.from(data) : data;
    if (this.#write(this.#handle(path, node, "w"), [bytes], 0) === undefined) return this.#hang();
  }

  async rename(from: string, to: string): Promise<void> {
    if (this.crashed) return this.#hang();
    if (!this.#renameNow(from, to)) return this.#hang();
  }

  #renameNow(from: string, to: string): boolean {
    const source = this.#parent(from);
    const node = source.dir.entries.get(source.name);
    if (!node) throw errno("ENOENT", `no such file or directory, rename '${from}' -> '${to}'`);
    const target = this.#parent(to);
    return this.#point("rename", `${from} -> ${to}`, () => {
      if (source.dir === target.dir) {
        this.#dirOp(source.dir, { kind: "rename", from: source.name, to: target.name, node });
      } else {
        // Two directories, each with its own pending operations: a crash may keep either, both or neither.
        this.#dirOp(target.dir, { kind: "link", name: target.name, node });
        this.#dirOp(source.dir, { kind: "unlink", name: source.name });
      }
    });
  }

  async unlink(path: string): Promise<void> {
    if (this.crashed) return this.#hang();
    if (!this.#unlinkNow(path)) return this.#hang();
  }

  #unlinkNow(path: string): boolean {
    const { dir, name } = this.#parent(path);
    const node = dir.entries.get(name);
    if (!node) throw errno("ENOENT", `no such file or directory, unlink '${path}'`);
    if (node.kind === "dir") throw errno("EISDIR", `illegal operation on a directory, unlink '${path}'`);
    return this.#point("unlink", path, () => this.#dirOp(dir, { kind: "unlink", name }));
  }

  async syncDir(path: string): Promise<void> {
    if (this.crashed) return this.#hang();
    const node = this.#lookup(path);
    if (node?.kind !== "dir") throw errno("ENOTDIR", `not a directory, ${path}`);
    const ok = this.#point("syncDir", path, () => {
      node.durable = new Map(node.entries);
      node.pending = [];
    });
    if (!ok) return this.#hang();
  }

  existsSync(path: string): boolean {
    if (this.crashed) this.#dead();
    return this.#lookup(path) !== undefined;
  }

  mkdirSync(path: string): void {
    if (this.crashed) this.#dead();
    const { dir, name } = this.#parent(path);
    if (dir.entries.has(name)) throw errno("EEXIST", `file already exists, mkdir '${path}'`);
    const node = newDir();
    if (!this.#point("mkdir", path, () => this.#dirOp(dir, { kind: "link", name, node }))) this.#dead();
  }

  readdirSync(path: string): string[] {
    if (this.crashed) this.#dead();
    const node = this.#lookup(path);
    if (!node) throw errno("ENOENT", `no such file or directory, scandir '${path}'`);
    if (node.kind !== "dir") throw errno("ENOTDIR", `not a directory, scandir '${path}'`);
    return [...node.entries.keys()].sort();
  }

  readFileSync(path: string): Buffer {
    if (this.crashed) this.#dead();
    return contentOf(this.#file(path));
  }

  sizeSync(path: string): number {
    if (this.crashed) this.#dead();
    return this.#file(path).size;
  }

  unlinkSync(path: string): void {
    if (this.crashed) this.#dead();
    if (!this.#unlinkNow(path)) this.#dead();
  }

  openSync(path: string, flags: OpenFlags): number {
    if (this.crashed) this.#dead();
    const node = this.#openNode(path, flags);
    if (!node) this.#dead();
    const fd = this.#nextFd++;
    this.#fds.set(fd, this.#handle(path, node, flags));
    return fd;
  }

  #fd(fd: number): Handle {
    const handle = this.#fds.get(fd);
    if (!handle) throw errno("EBADF", `bad file descriptor ${fd}`);
    return handle;
  }

  writevSync(fd: number, buffers: readonly Buffer[], position: number): number {
    if (this.crashed) this.#dead();
    const n = this.#write(this.#fd(fd), buffers, position);
    if (n === undefined) this.#dead();
    return n;
  }

  renameSync(from: string, to: string): void {
    if (this.crashed) this.#dead();
    if (!this.#renameNow(from, to)) this.#dead();
  }

  closeSync(fd: number): void {
    if (this.crashed) this.#dead();
    this.#fds.delete(fd);
  }

  fdatasync(fd: number, callback: (err: NodeJS.ErrnoException | null) => void): void {
    if (this.crashed) return;
    const handle = this.#fd(fd);
    if (this.#sync(handle)) queueMicrotask(() => callback(null));
  }

  /** Open file descriptors (sync API), to check none leaks. */
  get openDescriptors(): number {
    return this.#fds.size;
  }

  /**
   * The disk a reboot finds after the crash (or now, when there was none): a new file system whose
   * durable and volatile layers are both what survived under `mode`.
   */
  afterCrash(mode: CrashMode): PowerLossFs {
    const rand = typeof mode === "object" ? random(mode.seed) : null;
    const files = new Map<FileNode, FileNode>();
    const dirs = new Map<DirNode, DirNode>();
    const fileAfter = (f: FileNode): FileNode => {
      const done = files.get(f);
      if (done) return done;
      const disk = { data: contentOf(f.durable), size: f.durable.size };
      for (const [i, op] of f.pending.entries()) {
        const keep = mode === "keep-all" || (rand !== null && rand() < 0.5);
        if (!keep) continue;
        if (op.kind === "truncate") {
          truncateTo(disk, op.length);
          continue;
        }
        // The last write kept may be torn: only its first bytes reached the disk.
        const torn = rand !== null && i === f.pending.length - 1 && rand() < 0.5;
        const bytes = torn ? op.bytes.subarray(0, Math.floor(rand() * op.bytes.length)) : op.bytes;
        writeInto(disk, op.position, bytes);
      }
      const copy: FileNode = {
        kind: "file",
        data: disk.data,
        size: disk.size,
        durable: { data: contentOf(disk), size: disk.size },
        pending: [],
      };
      files.set(f, copy);
      return copy;
    };
    const dirAfter = (d: DirNode): DirNode => {
      const done = dirs.get(d);
      if (done) return done;
      const entries = new Map(d.durable);
      const kept =
        mode === "keep-all" ? d.pending.length : rand ? Math.floor(rand() * (d.pending.length + 1)) : 0;
      for (const op of d.pending.slice(0, kept)) {
        if (op.kind === "link") entries.set(op.name, op.node);
        else if (op.kind === "unlink") entries.delete(op.name);
        else {
          entries.delete(op.from);
          entries.set(op.to, op.node);
        }
      }
      const copy = newDir();
      dirs.set(d, copy);
      for (const [name, node] of entries) {
        copy.entries.set(name, node.kind === "dir" ? dirAfter(node) : fileAfter(node));
      }
      copy.durable = new Map(copy.entries);
      return copy;
    };
    return new PowerLossFs({ root: dirAfter(this.#root) });
  }
}

interface Handle {
  path: string;
  node: FileNode;
  append: boolean;
  position: number;
}
