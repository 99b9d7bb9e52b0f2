import { makeFixtures } from './media-fixtures';

export default function globalSetup(): void {
  makeFixtures();
}
