import { useEffect, useState } from 'react';

/** Tells the user whether the app is stored for offline use (service worker in control). */
export function OfflineBadge() {
  const [ready, setReady] = useState(() => !!navigator.serviceWorker?.controller);
  const [online, setOnline] = useState(() => navigator.onLine);
  useEffect(() => {
    const sw = navigator.serviceWorker;
    const onCtl = () => setReady(!!sw?.controller);
    sw?.addEventListener('controllerchange', onCtl);
    void sw?.ready.then(() => setReady(true));
    const on = () => setOnline(navigator.onLine);
    window.addEventListener('online', on);
    window.addEventListener('offline', on);
    return () => {
      sw?.removeEventListener('controllerchange', onCtl);
      window.removeEventListener('online', on);
      window.removeEventListener('offline', on);
    };
  }, []);
  return (
    <p className="badge" data-testid="offline-badge" data-ready={ready}>
      {ready ? 'Ready offline' : 'Preparing offline use…'}
      {!online && ' · you are offline'}
    </p>
  );
}
