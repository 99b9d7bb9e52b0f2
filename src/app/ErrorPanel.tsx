import type { VoxError } from '../lib/errors';

export function ErrorPanel({ error }: { error: VoxError }) {
  return (
    <section className="error" role="alert" data-testid="error" data-code={error.code}>
      <h2>{error.title}</h2>
      {error.detail && <p className="detail">{error.detail}</p>}
      <p>{error.action}</p>
    </section>
  );
}
