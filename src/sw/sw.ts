/// <reference lib="webworker" />
/**
 * VoxSplit's own service worker: precaches the app shell, the engines every
 * browser uses (ffmpeg core-st, ORT's WASM build) and the model, so the app
 * starts and separates with the network off. The optional engines (see
 * engine-files.ts) are cached the first time this browser uses them. It never
 * fetches anything outside the app's origin.
 */
import { cleanupOutdatedCaches, createHandlerBoundToURL, precacheAndRoute } from 'workbox-precaching';
import { NavigationRoute, registerRoute } from 'workbox-routing';
import { CacheFirst } from 'workbox-strategies';
import { isLazyEngineFile } from './engine-files';

declare const self: ServiceWorkerGlobalScope;

precacheAndRoute(self.__WB_MANIFEST, { ignoreURLParametersMatching: [/.*/] });
cleanupOutdatedCaches();
registerRoute(new NavigationRoute(createHandlerBoundToURL('index.html')));
// Hashed file names: a cached copy is never stale, and a new build asks for new names.
registerRoute(
  ({ url, sameOrigin }) => sameOrigin && isLazyEngineFile(url.pathname.split('/').pop() ?? ''),
  new CacheFirst({ cacheName: 'voxsplit-engines' }),
);

self.addEventListener('install', () => void self.skipWaiting());
self.addEventListener('activate', (e) => e.waitUntil(self.clients.claim()));
