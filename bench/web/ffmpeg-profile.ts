/**
 * Where ffmpeg.wasm's decode time goes (profiling only; the headline decode
 * figure is the app's own decode worker). Same @ffmpeg/ffmpeg class and the
 * same same-origin core files as src/features/decode/worker.ts, the same
 * command line, varied one factor at a time:
 *
 *   demux      WORKERFS mount, audio stream copied to the null muxer: reading the File + demuxing only
 *   app        WORKERFS mount, the app's decode command (decode, downmix, resample, write f32 to MEMFS)
 *   nullout    WORKERFS mount, decode + resample to the null muxer: no MEMFS output file
 *   memfs      the File copied into MEMFS first (not what the app does: it doubles memory), then the app's command
 */
import { FFFSType, FFmpeg } from '@ffmpeg/ffmpeg';
import coreStURL from '@ffmpeg/core?url';
import wasmStURL from '@ffmpeg/core/wasm?url';
import coreMtURL from '@ffmpeg/core-mt?url';
import wasmMtURL from '@ffmpeg/core-mt/wasm?url';
import workerMtURL from '@ffmpeg/core-mt/worker?url&no-inline';

const abs = (u: string) => new URL(u, location.href).href;
const decodeArgs = (input: string) => ['-v', 'error', '-i', input, '-map', '0:a:0', '-vn', '-sn', '-dn', '-ac', '1', '-ar', '16000', '-c:a', 'pcm_f32le'];

export async function ffmpegProfile(file: File, core: 'mt' | 'st' = 'mt') {
  const ff = new FFmpeg();
  const l0 = performance.now();
  await ff.load(core === 'mt' ? { coreURL: abs(coreMtURL), wasmURL: abs(wasmMtURL), workerURL: abs(workerMtURL) } : { coreURL: abs(coreStURL), wasmURL: abs(wasmStURL) });
  const loadMs = performance.now() - l0;
  const ext = /\.([a-z0-9]+)$/i.exec(file.name)?.[1] ?? 'bin';
  const mounted = `/in/input.${ext}`;
  const timed = async (args: string[]) => {
    const t0 = performance.now();
    const ret = await ff.exec(args);
    return { ms: performance.now() - t0, ret };
  };
  const out: Record<string, { ms: number; ret: number }> = {};
  try {
    await ff.createDir('/in');
    await ff.mount(FFFSType.WORKERFS, { blobs: [{ name: `input.${ext}`, data: file }] }, '/in');
    out.demux = await timed(['-v', 'error', '-i', mounted, '-map', '0:a:0', '-c', 'copy', '-f', 'null', '-']);
    out.app = await timed([...decodeArgs(mounted), '-f', 'f32le', '/out.f32']);
    await ff.deleteFile('/out.f32');
    out.nullout = await timed([...decodeArgs(mounted), '-f', 'null', '-']);
    await ff.unmount('/in');
    const c0 = performance.now();
    await ff.writeFile(`/copy.${ext}`, new Uint8Array(await file.arrayBuffer()));
    const copyMs = performance.now() - c0;
    out.memfs = await timed([...decodeArgs(`/copy.${ext}`), '-f', 'f32le', '/out.f32']);
    out.memfsCopy = { ms: copyMs, ret: 0 };
    await ff.deleteFile('/out.f32');
    await ff.deleteFile(`/copy.${ext}`);
  } finally {
    ff.terminate();
  }
  return { core, loadMs, bytes: file.size, ...out };
}
