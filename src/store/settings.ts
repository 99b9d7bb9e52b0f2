import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import { DEFAULT_LIMITS, type Limits } from '../lib/limits';

export type BackendSetting = 'auto' | 'wasm' | 'webgpu';
export type OutputRate = 'model' | 'original';

export interface SettingsState {
  backend: BackendSetting;
  outputRate: OutputRate;
  limits: Limits;
  setBackend(b: BackendSetting): void;
  setOutputRate(r: OutputRate): void;
}

export const useSettings = create<SettingsState>()(
  persist(
    (set) => ({
      backend: 'auto',
      outputRate: 'original',
      limits: DEFAULT_LIMITS,
      setBackend: (backend) => set({ backend }),
      setOutputRate: (outputRate) => set({ outputRate }),
    }),
    {
      name: 'voxsplit-settings',
      version: 1,
      // Limits are code, not a preference: never restored from storage.
      partialize: (s) => ({ backend: s.backend, outputRate: s.outputRate }),
    },
  ),
);
