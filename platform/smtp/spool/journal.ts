/** The durable spool: an append-only journal whose fsyncs are shared by every session waiting on it (group commit). */
import { join } from "node:path";
import { ensureDir, nodeFs, type SpoolFile, type SpoolFs } from "./fs.ts";
import { decodeRecord, HEADER_BYTES, stamp, type UnstampedRecord, unstampedRecord } from "./record.ts";

/** Where a record lives: segment number and byte offset of its header. */
export interface JournalRef {
  segment: number;
  offset: number;
  metaLength: number;
  bodyLength: number;
}

/** A record that was committed and not yet marked done, found when the journal was opened. */
export interface RecoveredRecord {
  ref: JournalRef;
  meta: unknown;
}

/** A record waiting for the next batch, with the callbacks of its caller. */
interface Pending extends UnstampedRecord {
  syncDirs: string[];
  resolve: (ref: JournalRef) => void;
  reject: (err: Error) => void;
}

interface Segment {
  seq: number;
  /** Records appended and not yet done. */
  live: number;
  /** True once the journal writes to a newer segment. */
  retired: boolean;
}

const segmentName = (seq: number) => `${String(seq).padStart(12, "0")}.log`;
const doneName = (seq: number) => `${String(seq).padStart(12, "0")}.done`;
/** The file holding the highest segment number ever handed out (see {@link Journal}). */
const SEQUENCE_FILE = "sequence";
/** Segment numbers reserved per write of the sequence file, so it is written once per this many segments. */
const SEQUENCE_BLOCK = 16;

/** A done mark is one decimal offset per line; a torn or partly written line matches nothing. */
function parseDone(text: string): Set<string> {
  const lines = text.split("\n");
  lines.pop(); // the last piece has no newline after it: written partly, or empty
  return new Set(lines.filter((l) => /^\d{1,15}$/.test(l)));
}

/** Parses the sequence file; 0 when missing or unreadable (then the file names decide). */
function parseSequence(data: Buffer | null): number {
  const m = data ? /^mailplane-journal-sequence (\d{1,15})\n$/.exec(data.toString("latin1")) : null;
  return m ? Number(m[1]) : 0;
}
/** Queued bytes from which a batch's sync may overlap the running one (large messages keep the disk busy). */
const OVERLAP_BYTES = 256 * 1024;
/** Finished segment files kept for reuse. */
const MAX_SPARES = 2;

/** A segment file opened for appending: its handle and how many syncs on it are running. */
interface OpenSegment {
  seq: number;
  fh: SpoolFile;
  syncing: number;
  /** The file's size: records fill it up to here (more than `segmentBytes` for a record of its own). */
  bytes: number;
}

/**
 * The spool journal. `append` resolves only after the record is on disk: its bytes were written
 * and `fdatasync`ed, in a segment file whose directory entry was synced when it was created.
 *
 * Group commit, without timers: appends that arrive while a sync runs form the next batch, written
 * with one `writev` and synced once, so N concurrent sessions cost one sync, not N. Writes are
 * serialised, but when at least {@link OVERLAP_BYTES} wait, up to `maxSyncs` syncs may overlap (the
 * next batch is written and its sync started while the previous one still waits for the disk).
 * Smaller batches wait for the running sync instead and grow meanwhile: a sync of a few small
 * records is mostly fixed cost (fewer, fuller syncs took the SMTP bench's CPU per 2 KB message
 * from ~155 to ~136 µs). Overlapping is safe because fdatasync(2)
 * flushes every dirty page of the file: when a batch's sync returns, every batch written before it
 * is on disk too, so recovery — which reads records in order and stops at the first torn one —
 * never skips an acknowledged record.
 *
 * Segments are prepared in the background while the previous one fills: a finished segment is
 * reused when there is one (its blocks are allocated, so appending changes no file size or extent
 * and a sync is a plain data flush), otherwise a new file is sized with ftruncate — sparse: its
 * blocks are allocated as records land and the syncs carry that metadata along. Filling new files
 * with zeros instead made every sync a data flush, but wrote each byte twice whenever the queue
 * grew faster than it delivered (a burst of large messages: 2-4× the CPU per 100 KB record, half the
 * disk bandwidth). A reused file's old records carry their old segment number, so recovery stops at
 * them like at a torn tail; a sparse file reads as zeros, which ends the scan the same way.
 *
 * That only holds if a segment number is never handed out twice, across restarts too: the highest
 * number reserved so far is kept in the `sequence` file (written in blocks of {@link SEQUENCE_BLOCK},
 * synced, renamed into place and its directory synced before any number of the block is used), and
 * a new journal continues above it and above every segment and spare file name it finds. Otherwise
 * a spare renamed to a number it once had would bring its old records back to life (mail delivered
 * again), and a `.done` file of an earlier life would skip new records (mail lost).
 *
 * Records are marked done (delivered, moved or quarantined) in a `.done` side file that is not
 * synced: after a crash a done mark may be lost and the message is delivered again — a duplicate,
 * never a loss (RFC 5321 §6.1). A segment is deleted once it is retired and all its records are done:
 * its file is renamed to a spare or removed first and its `.done` file after, so a crash that keeps
 * only the first operation of the directory leaves no segment without its marks (directory operations
 * reach the disk in the order they were made on Linux's journaling file systems).
 *
 * @example
 * const { journal, recovered } = await Journal.open("/var/spool/mailplane/journal");
 * const ref = await journal.append({ id: "q1" }, body); // durable now: answer 250
 * journal.markDone(ref);
 */
export class Journal {
  readonly dir: string;
  readonly segmentBytes: number;
  readonly maxSyncs: number;
  #segments = new Map<number, Segment>();
  #current!: Segment;
  #open!: OpenSegment;
  #next: Promise<OpenSegment> | null = null;
  #position = 0;
  #queue: Pending[] = [];
  #flushing = false;
  #syncing = 0;
  #syncWaiters: (() => void)[] = [];
  #failed: Error | null = null;
  #readers = new Map<number, Promise<SpoolFile>>();
  #doneBuffer = new Map<number, string[]>();
  #doneHandles = new Map<number, SpoolFile>();
  #spares: string[] = [];
  #doneScheduled = false;
  #doneWriting: Promise<void> = Promise.resolve();
  #closed = false;
  readonly #fs: SpoolFs;
  /** Highest segment number the sequence file allows without writing it again. */
  #reserved = 0;
  /** Highest segment number handed out. */
  #highest = 0;

  private constructor(dir: string, segmentBytes: number, maxSyncs: number, fs: SpoolFs) {
    this.dir = dir;
    this.segmentBytes = segmentBytes;
    this.maxSyncs = maxSyncs;
    this.#fs = fs;
  }

  /**
   * Opens the journal in `dir` (created if missing) and returns the records still to deliver.
   * Writing always starts a fresh segment, so a torn tail is never appended to.
   * @param segmentBytes size of a segment file; default 32 MiB. A record larger than that gets a segment of its own size.
   * @param maxSyncs syncs allowed to overlap; default 2.
   */
  static async open(
    dir: string,
    segmentBytes = 32 * 1024 * 1024,
    maxSyncs = 2,
    fs: SpoolFs = nodeFs,
  ): Promise<{ journal: Journal; recovered: RecoveredRecord[] }> {
    await ensureDir(fs, dir);
    const journal = new Journal(dir, segmentBytes, maxSyncs, fs);
    const recovered: RecoveredRecord[] = [];
    const files = fs.readdirSync(dir);
    const seqs = files
      .filter((f) => /^\d{12}\.log$/.test(f))
      .map((f) => Number(f.slice(0, 12)))
      .sort((a, b) => a - b);
    const spareSeqs = files.filter((f) => /^spare-\d+\.seg$/.test(f)).map((f) => Number(f.slice(6, -4)));
    let sequence: Buffer | null = null;
    try {
      sequence = fs.readFileSync(join(dir, SEQUENCE_FILE));
    } catch {
      // a new journal, or one written before the sequence file existed: the names decide
    }
    journal.#highest = Math.max(parseSequence(sequence), ...seqs, ...spareSeqs, 0);
    journal.#reserved = journal.#highest;
    for (const seq of seqs) {
      const data = fs.readFileSync(join(dir, segmentName(seq)));
      let done = new Set<string>();
      try {
        done = parseDone(fs.readFileSync(join(dir, doneName(seq))).toString("latin1"));
      } catch {
        // no done marks yet
      }
      const segment: Segment = { seq, live: 0, retired: true };
      let offset = 0;
      for (;;) {
        const rec = decodeRecord(data, offset, seq);
        if (!rec) break;
        if (!done.has(String(offset))) {
          recovered.push({
            ref: { segment: seq, offset, metaLength: rec.metaLength, bodyLength: rec.bodyLength },
            meta: rec.meta,
          });
          segment.live++;
        }
        offset = rec.next;
      }
      if (segment.live === 0) {
        // The segment first, its marks after (see the class comment on ordering).
        fs.unlinkSync(join(dir, segmentName(seq)));
        try {
          fs.unlinkSync(join(dir, doneName(seq)));
        } catch {
          // never had done marks
        }
      } else {
        journal.#segments.set(seq, segment);
      }
    }
    // Marks whose segment is gone belong to nothing: numbers are not reused, but keep the folder clean.
    // (Those of the finished segments just removed are gone already: `files` was listed before.)
    for (const f of files) {
      if (
        /^\d{12}\.done$/.test(f) &&
        !journal.#segments.has(Number(f.slice(0, 12))) &&
        fs.existsSync(join(dir, f))
      )
        fs.unlinkSync(join(dir, f));
    }
    for (const f of files.filter((name) => /^spare-\d+\.seg$/.test(name))) {
      if (journal.#spares.length < MAX_SPARES) journal.#spares.push(join(dir, f));
      else fs.unlinkSync(join(dir, f));
    }
    const first = await journal.#prepare(journal.#highest + 1, segmentBytes);
    journal.#use(first);
    return { journal, recovered };
  }

  /** Records waiting in segments (committed, not done). */
  get liveRecords(): number {
    let n = 0;
    for (const s of this.#segments.values()) n += s.live;
    return n;
  }

  /**
   * Appends a record and resolves once it is durable. `body` is one buffer or the chunks it arrived
   * in. `syncDirs` are directories to fsync in the same commit before the record is written (e.g.
   * where a large message body was written as its own file), so one batch pays for each directory once.
   */
  append(meta: unknown, body: Buffer | readonly Buffer[], syncDirs: string[] = []): Promise<JournalRef> {
    if (this.#failed) return Promise.reject(this.#failed);
    if (this.#closed) return Promise.reject(new Error("journal closed"));
    // The body may come as the chunks it arrived in: written with writev, never joined in memory.
    const parts = Buffer.isBuffer(body) ? [body] : body;
    const record = unstampedRecord(meta, parts);
    return new Promise((resolve, reject) => {
      this.#queue.push({ ...record, syncDirs, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  /** Reads a record's meta and body back (delivery after its in-memory copy was dropped, or after a restart). */
  async read(ref: JournalRef): Promise<{ meta: unknown; body: Buffer }> {
    let reader = this.#readers.get(ref.segment);
    if (!reader) {
      reader = this.#fs.open(join(this.dir, segmentName(ref.segment)), "r");
      this.#readers.set(ref.segment, reader);
    }
    const fh = await reader;
    const length = HEADER_BYTES + ref.metaLength + ref.bodyLength;
    const buf = Buffer.alloc(length);
    const { bytesRead } = await fh.read(buf, 0, length, ref.offset);
    const rec = bytesRead === length ? decodeRecord(buf, 0, ref.segment) : undefined;
    if (!rec) throw new Error(`journal record ${ref.segment}@${ref.offset} is unreadable`);
    return { meta: rec.meta, body: Buffer.from(rec.body) };
  }

  /** Marks a record done. Not synced (see the class comment); the segment goes when all are done. */
  markDone(ref: JournalRef): void {
    const segment = this.#segments.get(ref.segment);
    if (!segment) return;
    segment.live--;
    const list = this.#doneBuffer.get(ref.segment) ?? [];
    list.push(String(ref.offset));
    this.#doneBuffer.set(ref.segment, list);
    if (!this.#doneScheduled) {
      this.#doneScheduled = true;
      setImmediate(() => {
        this.#doneScheduled = false;
        // A mark that cannot be written (disk full, folder gone) is a mark lost: the record is
        // delivered again after a restart, as after a crash. Not an unhandled rejection.
        this.#doneWriting = this.#doneWriting.then(() => this.#writeDone()).catch(() => {});
      });
    }
  }

  /**
   * Marks a record done and resolves once the mark is on disk (its `.done` file and the folder
   * synced, or the finished segment's removal synced). For a record naming a file of its own (a
   * spilled body): that file may go only then, or a crash could bring back the record without it.
   */
  async markDoneDurably(ref: JournalRef): Promise<void> {
    this.markDone(ref);
    await this.syncDone(ref);
  }

  /**
   * Resolves once the done mark given to `ref` earlier ({@link markDone}) is on disk, as
   * {@link markDoneDurably} would have made it.
   */
  async syncDone(ref: JournalRef): Promise<void> {
    // markDone writes its batch in an immediate scheduled before this one: wait for that write.
    await new Promise<void>((resolve) => setImmediate(resolve));
    await this.#doneWriting;
    await this.#doneHandles.get(ref.segment)?.datasync();
    await this.#fs.syncDir(this.dir);
  }

  /** Waits for queued commits and done marks, then closes the files. */
  async close(): Promise<void> {
    this.#closed = true;
    while (this.#flushing || this.#queue.length > 0 || this.#syncing > 0)
      await new Promise((r) => setImmediate(r));
    await new Promise((r) => setImmediate(r));
    await this.#doneWriting;
    await this.#writeDone();
    await this.#open.fh.close();
    if (this.#next) {
      // A prepared, never used segment holds no records: remove it.
      const spare = await this.#next.catch(() => null);
      if (spare) {
        await spare.fh.close();
        await this.#fs.unlink(join(this.dir, segmentName(spare.seq))).catch(() => {});
      }
    }
    if (this.#current.live === 0) await this.#removeSegment(this.#current.seq);
    for (const reader of this.#readers.values()) await (await reader).close().catch(() => {});
    this.#readers.clear();
    for (const fh of this.#doneHandles.values()) await fh.close().catch(() => {});
    this.#doneHandles.clear();
  }

  async #writeDone(): Promise<void> {
    const batch = this.#doneBuffer;
    this.#doneBuffer = new Map();
    for (const [seq, offsets] of batch) {
      const segment = this.#segments.get(seq);
      // Removed meanwhile (a rotation found it finished): writing would recreate its .done file.
      if (!segment) continue;
      if (segment.live === 0 && segment.retired) {
        await this.#removeSegment(seq);
        continue;
      }
      let fh = this.#doneHandles.get(seq);
      if (!fh) {
        fh = await this.#fs.open(join(this.dir, doneName(seq)), "a");
        this.#doneHandles.set(seq, fh);
      }
      await fh.writev([Buffer.from(`${offsets.join("\n")}\n`, "latin1")]);
    }
  }

  async #removeSegment(seq: number): Promise<void> {
    this.#segments.delete(seq);
    const reader = this.#readers.get(seq);
    this.#readers.delete(seq);
    if (reader) await (await reader).close().catch(() => {});
    const done = this.#doneHandles.get(seq);
    this.#doneHandles.delete(seq);
    await done?.close().catch(() => {});
    // The segment file goes first, its done marks after: a crash between the two leaves marks
    // without a segment (removed at the next open), never a segment without its marks.
    // Keep a couple of finished segments as spares: a reused file is already allocated, so syncs
    // into it are plain data flushes. Its old records carry an older sequence number and are never read.
    let kept = false;
    if (this.#spares.length < MAX_SPARES) {
      const spare = join(this.dir, `spare-${seq}.seg`);
      try {
        await this.#fs.rename(join(this.dir, segmentName(seq)), spare);
        this.#spares.push(spare);
        kept = true;
      } catch {
        // fall through: delete it
      }
    }
    if (!kept) await this.#fs.unlink(join(this.dir, segmentName(seq))).catch(() => {});
    await this.#fs.unlink(join(this.dir, doneName(seq))).catch(() => {});
  }

  /** Makes sure `seq` is covered by the durable sequence file before it is used. */
  async #reserve(seq: number): Promise<void> {
    this.#highest = Math.max(this.#highest, seq);
    if (seq <= this.#reserved) return;
    const reserved = seq + SEQUENCE_BLOCK - 1;
    const path = join(this.dir, SEQUENCE_FILE);
    const fh = await this.#fs.open(`${path}.tmp`, "w");
    try {
      await fh.writev([Buffer.from(`mailplane-journal-sequence ${reserved}\n`, "latin1")]);
      await fh.datasync();
    } finally {
      await fh.close();
    }
    await this.#fs.rename(`${path}.tmp`, path);
    await this.#fs.syncDir(this.dir);
    this.#reserved = Math.max(this.#reserved, reserved);
  }

  /**
   * Makes segment `seq`: a spare renamed (already allocated), or a new sparse file of `bytes`,
   * synced; either way with its directory entry synced.
   */
  async #prepare(seq: number, bytes: number): Promise<OpenSegment> {
    await this.#reserve(seq);
    const path = join(this.dir, segmentName(seq));
    while (this.#spares.length > 0) {
      const spare = this.#spares.pop()!;
      try {
        const size = this.#fs.sizeSync(spare);
        if (size < bytes) throw new Error("spare too small");
        await this.#fs.rename(spare, path);
        await this.#fs.syncDir(this.dir);
        return { seq, fh: await this.#fs.open(path, "r+"), syncing: 0, bytes: size };
      } catch {
        await this.#fs.unlink(spare).catch(() => {});
      }
    }
    const fh = await this.#fs.open(path, "wx+");
    try {
      await fh.truncate(bytes);
      await fh.sync();
      await this.#fs.syncDir(this.dir);
    } catch (err) {
      await fh.close();
      throw err;
    }
    return { seq, fh, syncing: 0, bytes };
  }

  #use(next: OpenSegment): void {
    this.#open = next;
    this.#position = 0;
    this.#current = { seq: next.seq, live: 0, retired: false };
    this.#segments.set(next.seq, this.#current);
  }

  /** Switches to the next segment (prepared in the background) once the current one's syncs ended. */
  async #rotate(minBytes: number): Promise<void> {
    while (this.#syncing > 0) await new Promise<void>((r) => this.#syncWaiters.push(r));
    const previous = this.#current;
    const old = this.#open;
    let next = this.#next ? await this.#next : null;
    this.#next = null;
    // A record larger than the prepared segment gets a segment of its own size.
    if (!next || minBytes > next.bytes) {
      if (next) {
        await next.fh.close();
        await this.#fs.unlink(join(this.dir, segmentName(next.seq)));
      }
      next = await this.#prepare(this.#highest + 1, Math.max(minBytes, this.segmentBytes));
    }
    this.#use(next);
    previous.retired = true;
    await old.fh.close();
    if (previous.live === 0) await this.#removeSegment(previous.seq);
  }

  /** Syncs that may run at once for what is queued now (see the class comment). */
  #syncsAllowed(): number {
    let bytes = 0;
    for (const p of this.#queue) {
      bytes += p.bytes;
      if (bytes >= OVERLAP_BYTES) return this.maxSyncs;
    }
    return 1;
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    try {
      while (this.#queue.length > 0 && !this.#failed) {
        while (this.#syncing >= this.#syncsAllowed())
          await new Promise<void>((r) => this.#syncWaiters.push(r));
        // Take the queued records that fit in the current segment; rotate when the first does not.
        // The open segment's own size: one made for a large record is larger than segmentBytes
        // (measuring against segmentBytes rotated forever on a record that never fits).
        const room = this.#open.bytes - this.#position;
        let take = 0;
        let bytes = 0;
        while (take < this.#queue.length && bytes + this.#queue[take]!.bytes <= room)
          bytes += this.#queue[take++]!.bytes;
        if (take === 0) {
          await this.#rotate(this.#queue[0]!.bytes);
          continue;
        }
        const batch = this.#queue.splice(0, take);
        // Prepare the next segment ahead of need, off the acknowledgement path.
        if (!this.#next && this.#position + bytes > this.segmentBytes / 2) {
          this.#next = this.#prepare(this.#highest + 1, this.segmentBytes);
          this.#next.catch(() => {});
        }
        const segment = this.#open;
        const start = this.#position;
        try {
          const dirs = [...new Set(batch.flatMap((p) => p.syncDirs))];
          await Promise.all(dirs.map((d) => this.#fs.syncDir(d)));
          for (const p of batch) stamp(p.buffers, p.inner, segment.seq);
          const buffers = batch.flatMap((p) => p.buffers);
          let written = 0;
          while (written < bytes) {
            const { bytesWritten } = await segment.fh.writev(
              written === 0 ? buffers : [Buffer.concat(buffers).subarray(written)],
              start + written,
            );
            written += bytesWritten;
          }
        } catch (err) {
          this.#fail(err, batch);
          break;
        }
        this.#position = start + bytes;
        this.#syncing++;
        segment.syncing++;
        const current = this.#current;
        segment.fh
          .datasync()
          .then(
            () => {
              let offset = start;
              for (const p of batch) {
                current.live++;
                p.resolve({
                  segment: segment.seq,
                  offset,
                  metaLength: p.metaLength,
                  bodyLength: p.bodyLength,
                });
                offset += p.bytes;
              }
            },
            (err) => this.#fail(err, batch),
          )
          .finally(() => {
            this.#syncing--;
            segment.syncing--;
            for (const w of this.#syncWaiters.splice(0)) w();
          });
      }
    } finally {
      this.#flushing = false;
    }
  }

  /**
   * A failed write or sync leaves the file in an unknown state: refuse everything from now on
   * (clients get 451 and retry) rather than acknowledge what may not be on disk.
   */
  #fail(err: unknown, batch: Pending[]): void {
    this.#failed ??= err instanceof Error ? err : new Error(String(err));
    for (const p of [...batch, ...this.#queue.splice(0)]) p.reject(this.#failed);
  }
}
