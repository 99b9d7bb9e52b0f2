import { randomBytes } from 'node:crypto';
import { mkdtempSync, readFileSync, writeFileSync, existsSync, mkdirSync, utimesSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { brotliDecompressSync, gunzipSync } from 'node:zlib';
import { describe, expect, it } from 'vitest';
import { compressDir, fileFor, freshCompressed, pickEncoding } from './precompress';

describe('pickEncoding', () => {
  it('prefers brotli, falls back to gzip, honours q=0', () => {
    expect(pickEncoding('gzip, deflate, br, zstd')).toBe('br');
    expect(pickEncoding('gzip, deflate')).toBe('gzip');
    expect(pickEncoding('br;q=0, gzip;q=0.5')).toBe('gzip');
    expect(pickEncoding('identity')).toBeNull();
    expect(pickEncoding(undefined)).toBeNull();
  });
});

describe('fileFor', () => {
  it('maps a request path under the root and refuses to leave it', () => {
    expect(fileFor('/srv/dist', '/assets/a.wasm?v=1')).toBe('/srv/dist/assets/a.wasm');
    expect(fileFor('/srv/dist', '/../etc/passwd')).toBeNull();
    expect(fileFor('/srv/dist', '/%2e%2e/etc/passwd')).toBeNull();
    expect(fileFor('/srv/dist', '/%E0%A4%A')).toBeNull();
  });
});

describe('compressDir', () => {
  it('writes .br and .gz that decode to the original, and skips small or incompressible files', () => {
    const dir = mkdtempSync(join(tmpdir(), 'precompress-'));
    mkdirSync(join(dir, 'assets'));
    const text = Buffer.from('const x = 1;\n'.repeat(2000));
    const noise = randomBytes(8192);
    writeFileSync(join(dir, 'assets', 'app.js'), text);
    writeFileSync(join(dir, 'assets', 'noise.wasm'), noise);
    writeFileSync(join(dir, 'tiny.json'), '{}');
    writeFileSync(join(dir, 'icon.png'), text);
    const r = compressDir(dir);
    expect(r.files).toBe(1);
    expect(brotliDecompressSync(readFileSync(join(dir, 'assets', 'app.js.br')))).toEqual(text);
    expect(gunzipSync(readFileSync(join(dir, 'assets', 'app.js.gz')))).toEqual(text);
    expect(existsSync(join(dir, 'assets', 'noise.wasm.br'))).toBe(false);
    expect(existsSync(join(dir, 'tiny.json.br'))).toBe(false);
    expect(existsSync(join(dir, 'icon.png.br'))).toBe(false);
  });
});

describe('freshCompressed', () => {
  it('serves a sibling only while it is not older than the file (a replaced file goes out as it is)', () => {
    const dir = mkdtempSync(join(tmpdir(), 'precompress-'));
    const file = join(dir, 'model.onnx');
    writeFileSync(file, Buffer.alloc(4096, 7));
    compressDir(dir);
    expect(freshCompressed(file, 'br')?.path).toBe(`${file}.br`);
    expect(freshCompressed(file, 'gzip')?.path).toBe(`${file}.gz`);
    const later = new Date(Date.now() + 5000);
    writeFileSync(file, Buffer.alloc(4096, 8));
    utimesSync(file, later, later);
    expect(freshCompressed(file, 'br')).toBeNull();
    expect(freshCompressed(join(dir, 'missing.onnx'), 'br')).toBeNull();
  });
});
