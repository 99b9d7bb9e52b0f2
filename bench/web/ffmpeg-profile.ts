/**
 * Where ffmpeg.wasm's decode time goes (profiling only; the headline decode
 * figure is the app's own decode worker). Same @ffmpeg/ffmpeg class and the
 * same same-origin core files as src/features/decode/worker.ts, the same
 * command line, varied one factor at a time:
 *
 *   app        WORKERFS mount, the app's decode command (decode, downmix, resample, write f32 to MEMFS)
 *   demux      WORKERFS mount, audio stream copied to the null muxer: reading the File + demuxing only
 *   nullout    WORKERFS mount, decode + resample to the null muxer: no MEMFS output file
 *   memfs      the File copied into MEMFS first (not what the app does: it doubles memory), then the app's command
 *   memfsNull  from MEMFS, to the null muxer: decode + resample only
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
  // Two passes in the same instance: the first runs while V8 is still tiering the ~32 MB module up
  // from its baseline compiler (as the app's first decode does); the second runs optimised code.
  const passes: Record<string, number>[] = [];
  try {
    await ff.createDir('/in');
    for (let pass = 0; pass < 2; pass++) {
      const out: Record<string, number> = {};
      await ff.mount(FFFSType.WORKERFS, { blobs: [{ name: `input.${ext}`, data: file }] }, '/in');
      out.app = (await timed([...decodeArgs(mounted), '-f', 'f32le', '/out.f32'])).ms;
      await ff.deleteFile('/out.f32');
      out.demux = (await timed(['-v', 'error', '-i', mounted, '-map', '0:a:0', '-c', 'copy', '-f', 'null', '-'])).ms;
      out.nullout = (await timed([...decodeArgs(mounted), '-f', 'null', '-'])).ms;
      await ff.unmount('/in');
      const c0 = performance.now();
      await ff.writeFile(`/copy.${ext}`, new Uint8Array(await file.arrayBuffer()));
      out.memfsCopy = performance.now() - c0;
      out.memfs = (await timed([...decodeArgs(`/copy.${ext}`), '-f', 'f32le', '/out.f32'])).ms;
      out.memfsNull = (await timed([...decodeArgs(`/copy.${ext}`), '-f', 'null', '-'])).ms;
      await ff.deleteFile('/out.f32');
      await ff.deleteFile(`/copy.${ext}`);
      passes.push(out);
    }
  } finally {
    ff.terminate();
  }
  return { core, loadMs, bytes: file.size, cold: passes[0], warm: passes[1] };
}
