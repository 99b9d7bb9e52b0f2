/**
 * "Download all" as a stream: entries are pushed piece by piece and the zip
 * bytes come out as they are made (to a file on disk), so no track and no zip
 * is ever whole in memory. WAV barely compresses: entries are stored (level 0),
 * which keeps a zip of an hour of tracks fast.
 */
import { Zip, ZipPassThrough } from 'fflate';

/**
 * fflate writes classic (not ZIP64) archives: sizes and offsets are 32-bit.
 * Leave room for the headers and the central directory.
 */
export const ZIP_MAX_BYTES = 0xffffffff - 1024 * 1024;

export interface ZipEntryWriter {
  push(data: Uint8Array): void;
  end(): void;
}

export class ZipStream {
  private readonly zip: Zip;
  private open: ZipPassThrough | null = null;
  private error: Error | null = null;
  private ended = false;
  /** Bytes of archive handed to `write` so far. */
  written = 0;

  constructor(private readonly write: (chunk: Uint8Array) => void) {
    this.zip = new Zip((err, data, final) => {
      if (err) {
        this.error = err;
        return;
      }
      this.written += data.length;
      if (this.written > ZIP_MAX_BYTES) this.error = new RangeError('The zip would be larger than 4 GiB');
      else this.write(data);
      if (final) this.ended = true;
    });
  }

  /** Starts the next entry; the previous one must have ended. */
  entry(name: string, mtime = new Date()): ZipEntryWriter {
    this.check();
    if (this.open) throw new Error('The previous zip entry is still open');
    const f = new ZipPassThrough(name);
    f.mtime = mtime;
    this.zip.add(f);
    this.open = f;
    return {
      push: (data) => {
        f.push(data);
        this.check();
      },
      end: () => {
        f.push(new Uint8Array(0), true);
        this.open = null;
        this.check();
      },
    };
  }

  /** Writes the central directory; the archive is complete once this returns. */
  finish(): void {
    if (this.open) throw new Error('A zip entry is still open');
    this.zip.end();
    this.check();
    if (!this.ended) throw new Error('The zip did not complete');
  }

  private check(): void {
    if (this.error) throw this.error;
  }
}
