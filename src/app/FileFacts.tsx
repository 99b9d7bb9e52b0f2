import type { MediaFacts } from '../pipeline/types';
import { formatBytes, formatDuration } from '../lib/limits';

export function FileFacts({ facts }: { facts: MediaFacts }) {
  return (
    <dl className="facts" data-testid="file-facts">
      <dt>File</dt>
      <dd>{facts.fileName}</dd>
      <dt>Size</dt>
      <dd>{formatBytes(facts.sizeBytes)}</dd>
      <dt>Duration</dt>
      <dd data-testid="facts-duration">{formatDuration(facts.durationSec)}</dd>
      <dt>Container</dt>
      <dd>{facts.container}</dd>
      <dt>Audio</dt>
      <dd>
        {facts.sampleRate} Hz, {facts.channels === 1 ? 'mono' : facts.channels === 2 ? 'stereo' : `${facts.channels} channels`}
      </dd>
      <dt>Streams</dt>
      <dd>
        {facts.streams
          .map((s) => (s.type === 'video' && s.width ? `${s.type} ${s.codec} ${s.width}×${s.height}` : `${s.type} ${s.codec}`))
          .join(', ')}
      </dd>
    </dl>
  );
}
