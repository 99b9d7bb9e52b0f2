/** Machine facts and memory of process trees, from /proc (Linux). */
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import os from 'node:os';

const read = (f) => {
  try {
    return readFileSync(f, 'utf8');
  } catch {
    return null;
  }
};

export function loadAverage() {
  const [one, five, fifteen] = (read('/proc/loadavg') ?? '').split(' ').map(Number);
  return { one, five, fifteen };
}

/** The busiest processes other than ours (command name + %CPU), to say what the machine was shared with. */
export function busiestProcesses(n = 5) {
  try {
    const out = execFileSync('ps', ['-eo', 'pid=,ni=,pcpu=,rss=,comm=,args=', '--sort=-pcpu'], { encoding: 'utf8' });
    return out
      .trim()
      .split('\n')
      .slice(0, n + 3)
      .map((l) => l.trim().split(/\s+/))
      .filter((f) => f[4] !== 'ps')
      .slice(0, n)
      .map(([pid, nice, pcpu, rss, comm, ...args]) => ({ pid: Number(pid), nice: Number(nice), cpuPercent: Number(pcpu), rssMiB: Math.round(Number(rss) / 1024), command: comm, args: args.join(' ').slice(0, 80) }));
  } catch {
    return [];
  }
}

export function machine() {
  const cpuinfo = read('/proc/cpuinfo') ?? '';
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? 'unknown';
  const flags = /flags\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.split(' ') ?? [];
  const memKb = Number(/MemTotal:\s+(\d+)/.exec(read('/proc/meminfo') ?? '')?.[1] ?? 0);
  return {
    cpuModel: model,
    cores: os.availableParallelism?.() ?? os.cpus().length,
    simd: ['avx2', 'avx512f', 'fma'].filter((f) => flags.includes(f)),
    memTotalGiB: Math.round((memKb / 1024 / 1024) * 10) / 10,
    kernel: os.release(),
    hostname: os.hostname(),
  };
}

function children() {
  const kids = new Map();
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    const stat = read(`/proc/${d}/stat`);
    if (!stat) continue;
    const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
    if (!kids.has(ppid)) kids.set(ppid, []);
    kids.get(ppid).push(Number(d));
  }
  return kids;
}

export function processTree(root) {
  const kids = children();
  const out = [];
  const stack = [root];
  while (stack.length) {
    const p = stack.pop();
    out.push(p);
    stack.push(...(kids.get(p) ?? []));
  }
  return out;
}

/** PSS (proportional: shared pages split between sharers, so sums are honest) and RSS of a process, in bytes. */
function memoryOf(pid) {
  const roll = read(`/proc/${pid}/smaps_rollup`);
  const status = read(`/proc/${pid}/status`);
  const kb = (text, key) => Number(new RegExp(`^${key}:\\s+(\\d+) kB`, 'm').exec(text ?? '')?.[1] ?? 0) * 1024;
  const name = /^Name:\s+(.+)$/m.exec(status ?? '')?.[1] ?? '?';
  // Chromium's processes all share one name: tell them apart by --type (none = the browser process).
  const type = /^chrom/.test(name) ? (/--type=([a-z-]+)/.exec(read(`/proc/${pid}/cmdline`)?.replaceAll('\0', ' ') ?? '')?.[1] ?? 'browser') : null;
  return { pss: kb(roll, 'Pss'), rss: kb(status, 'VmRSS'), name: type ? `${name} ${type}` : name };
}

export function treeMemory(root) {
  let pss = 0;
  let rss = 0;
  let maxPss = 0;
  let maxName = '';
  const pids = processTree(root);
  for (const p of pids) {
    const m = memoryOf(p);
    pss += m.pss;
    rss += m.rss;
    if (m.pss > maxPss) {
      maxPss = m.pss;
      maxName = m.name;
    }
  }
  return { pss, rss, processes: pids.length, largestPss: maxPss, largestName: maxName };
}

const CLK_TCK = 100;

/** CPU time (user + system) consumed so far by every live process of a tree, in ms. */
export function treeCpuMs(root) {
  let ticks = 0;
  for (const p of processTree(root)) {
    const stat = read(`/proc/${p}/stat`);
    if (!stat) continue;
    const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    ticks += Number(f[11]) + Number(f[12]); // utime, stime (fields 14 and 15)
  }
  return (ticks * 1000) / CLK_TCK;
}

/** Samples a process tree's memory every `ms` until stop(); peak PSS/RSS sums and the baseline at start; CPU time used meanwhile. */
export function treeSampler(root, ms = 300) {
  const cpu0 = treeCpuMs(root);
  const baseline = treeMemory(root);
  const peak = { ...baseline };
  // The tab's own renderer holds the page, its workers and their wasm memories: its peak bounds JS + wasm.
  const largest = { pss: baseline.largestPss, name: baseline.largestName };
  const started = Date.now();
  // A coarse time series (every ~2 s) shows where the peak happens (wasm compilation, decode, separation…).
  const series = [[0, Math.round(baseline.pss / 1048576)]];
  let lastSeries = started;
  const timer = setInterval(() => {
    const m = treeMemory(root);
    if (Date.now() - lastSeries >= 2000) {
      lastSeries = Date.now();
      series.push([Math.round((lastSeries - started) / 100) / 10, Math.round(m.pss / 1048576)]);
    }
    if (m.pss > peak.pss) Object.assign(peak, { pss: m.pss, largestPss: m.largestPss, largestName: m.largestName, processes: m.processes });
    if (m.rss > peak.rss) peak.rss = m.rss;
    if (m.largestPss > largest.pss) Object.assign(largest, { pss: m.largestPss, name: m.largestName });
  }, ms);
  return {
    stop() {
      clearInterval(timer);
      const MiB = (b) => Math.round((b / 1048576) * 10) / 10;
      return {
        cpuMs: treeCpuMs(root) - cpu0,
        baselinePssMiB: MiB(baseline.pss),
        peakPssMiB: MiB(peak.pss),
        growthPssMiB: MiB(peak.pss - baseline.pss),
        peakRssSumMiB: MiB(peak.rss),
        largestProcessPssMiB: MiB(peak.largestPss),
        largestProcess: peak.largestName,
        processes: peak.processes,
        peakLargestProcessPssMiB: MiB(largest.pss),
        peakLargestProcess: largest.name,
        pssSeriesMiB: series,
      };
    },
  };
}
