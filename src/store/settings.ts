import { create } from 'zustand';
import { persist } from 'zustand/middleware';
import type { BackendSetting } from '../features/model/backend';
import { DEFAULT_LIMITS, type Limits } from '../lib/limits';

export type { BackendSetting };
export type OutputRate = 'model' | 'original';
/** WebAssembly threads: 'auto' lets the separate worker choose (wasmThreads() in features/model/backend.ts). */
export type ThreadsSetting = 'auto' | number;

export interface SettingsState {
  backend: BackendSetting;
  outputRate: OutputRate;
  threads: ThreadsSetting;
  /** Keep each voice on its own track across turns (the associate stage; needs the manifest's voiceprint). */
  associate: boolean;
  limits: Limits;
  setBackend(b: BackendSetting): void;
  setOutputRate(r: OutputRate): void;
  setThreads(t: ThreadsSetting): void;
  setAssociate(on: boolean): void;
}

export const useSettings = create<SettingsState>()(
  persist(
    (set) => ({
      backend: 'auto',
      outputRate: 'original',
      threads: 'auto',
      associate: true,
      limits: DEFAULT_LIMITS,
      setBackend: (backend) => set({ backend }),
      setOutputRate: (outputRate) => set({ outputRate }),
      setThreads: (threads) => set({ threads }),
      setAssociate: (associate) => set({ associate }),
    }),
    {
      name: 'voxsplit-settings',
      version: 1,
      // Limits are code, not a preference: never restored from storage.
      partialize: (s) => ({ backend: s.backend, outputRate: s.outputRate, threads: s.threads, associate: s.associate }),
    },
  ),
);
