import { defineConfig } from '@playwright/test';
import { APP_PORT, chromiumArgs } from './e2e/support/browser';

export default defineConfig({
  testDir: 'e2e',
  outputDir: 'test-results/artifacts',
  // Separation runs on 2 CPU cores next to a build: generous, never the measure of speed.
  timeout: 8 * 60_000,
  expect: { timeout: 60_000 },
  workers: 1,
  fullyParallel: false,
  forbidOnly: !!process.env.CI,
  reporter: [['list']],
  globalSetup: './e2e/support/global-setup.ts',
  use: {
    baseURL: `http://localhost:${APP_PORT}`,
    acceptDownloads: true,
    trace: 'retain-on-failure',
    screenshot: 'only-on-failure',
    launchOptions: { executablePath: '/usr/bin/chromium', args: chromiumArgs() },
  },
  webServer: {
    // Tests run against the production build: that is what ships, with its service worker.
    command: `npx vite build && npx vite preview --host localhost --port ${APP_PORT} --strictPort`,
    url: `http://localhost:${APP_PORT}/`,
    timeout: 5 * 60_000,
    reuseExistingServer: false,
    stdout: 'ignore',
    stderr: 'pipe',
  },
});
