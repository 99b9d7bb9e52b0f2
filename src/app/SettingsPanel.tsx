import { requestedThreads, threadChoices } from '../features/model/backend';
import { useSettings, type BackendSetting, type OutputRate } from '../store/settings';
import { formatBytes, formatDuration } from '../lib/limits';

export function SettingsPanel({ disabled }: { disabled: boolean }) {
  const { backend, outputRate, threads, associate, limits, setBackend, setOutputRate, setThreads, setAssociate } = useSettings();
  const choices = threadChoices();
  const threadValue = String(requestedThreads(threads) ?? 'auto');
  return (
    <details className="settings">
      <summary>Settings</summary>
      <label>
        Compute backend{' '}
        <select value={backend} disabled={disabled} onChange={(e) => setBackend(e.currentTarget.value as BackendSetting)} data-testid="backend-setting">
          <option value="auto">Automatic (WebGPU on a real GPU, else WebAssembly)</option>
          <option value="wasm">WebAssembly</option>
          <option value="webgpu">WebGPU (forced, even on a software adapter)</option>
        </select>
      </label>
      <label>
        WebAssembly threads{' '}
        <select
          value={threadValue}
          disabled={disabled || choices.max === 1}
          onChange={(e) => setThreads(e.currentTarget.value === 'auto' ? 'auto' : Number(e.currentTarget.value))}
          data-testid="threads-setting"
        >
          <option value="auto">Automatic ({choices.auto} here: one core is left to decoding and the page)</option>
          {Array.from({ length: choices.max }, (_, i) => i + 1).map((n) => (
            <option key={n} value={String(n)}>
              {n}
            </option>
          ))}
        </select>
        {choices.max === 1 && <span className="muted"> (1: this page cannot share memory between threads)</span>}
      </label>
      <label>
        <input
          type="checkbox"
          checked={associate}
          disabled={disabled}
          onChange={(e) => setAssociate(e.currentTarget.checked)}
          data-testid="associate-setting"
        />{' '}
        Keep each voice on its own track when people take turns (compares voiceprints, on this device)
      </label>
      <label>
        Download sample rate{' '}
        <select value={outputRate} onChange={(e) => setOutputRate(e.currentTarget.value as OutputRate)} data-testid="rate-setting">
          <option value="original">The original file's rate</option>
          <option value="model">16 kHz (the model's rate)</option>
        </select>
      </label>
      <p className="muted">
        Limits: files up to {formatBytes(limits.maxFileBytes)} and {formatDuration(limits.maxDurationSec)} long.
      </p>
    </details>
  );
}
