import { StrictMode } from 'react';
import { createRoot } from 'react-dom/client';
import { Workbox } from 'workbox-window';
import { App } from './app/App';
import { toVoxError } from './lib/errors';
import { useJob } from './store/job';
import './app/styles.css';

// A promise nobody awaited must still end up in front of the user, never silently.
window.addEventListener('unhandledrejection', (e) => {
  console.error('Unhandled rejection', e.reason);
  const job = useJob.getState();
  if (job.phase !== 'failed') job.fail(job.runId, toVoxError(e.reason));
});

if ('serviceWorker' in navigator && import.meta.env.PROD) {
  // Without a service worker (blocked by policy, private mode) the app still works, only not offline.
  new Workbox(`${import.meta.env.BASE_URL}sw.js`, { scope: import.meta.env.BASE_URL }).register().catch((e: unknown) => {
    console.warn('Offline use is unavailable: the service worker could not be registered.', e);
  });
}

createRoot(document.getElementById('root')!).render(
  <StrictMode>
    <App />
  </StrictMode>,
);
