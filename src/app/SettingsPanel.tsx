import { useSettings, type BackendSetting, type OutputRate } from '../store/settings';
import { formatBytes, formatDuration } from '../lib/limits';

export function SettingsPanel({ disabled }: { disabled: boolean }) {
  const { backend, outputRate, limits, setBackend, setOutputRate } = useSettings();
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
