import { useRef, useState, type DragEvent } from 'react';
import { openFile } from '../pipeline/run-job';

const ACCEPT = 'audio/*,video/*,.wav,.mp3,.m4a,.aac,.ogg,.opus,.oga,.flac,.webm,.mp4,.m4v,.mov,.mkv';

export function DropZone({ disabled }: { disabled: boolean }) {
  const input = useRef<HTMLInputElement>(null);
  const [over, setOver] = useState(false);

  const onDrop = (e: DragEvent) => {
    e.preventDefault();
    setOver(false);
    const file = e.dataTransfer.files[0];
    if (file && !disabled) void openFile(file);
  };

  return (
    <section
      className={`dropzone${over ? ' over' : ''}`}
      onDragOver={(e) => {
        e.preventDefault();
        setOver(true);
      }}
      onDragLeave={() => setOver(false)}
      onDrop={onDrop}
      data-testid="dropzone"
    >
      <p className="dropzone-title">Drop a recording or a video here</p>
      <p className="muted">WAV, MP3, M4A, OGG/Opus, FLAC, WebM, MP4, MOV, MKV. It stays on this device.</p>
      <button type="button" className="primary" disabled={disabled} onClick={() => input.current?.click()}>
        Choose a file…
      </button>
      <input
        ref={input}
        type="file"
        accept={ACCEPT}
        hidden
        data-testid="file-input"
        onChange={(e) => {
          const file = e.currentTarget.files?.[0];
          e.currentTarget.value = '';
          if (file) void openFile(file);
        }}
      />
    </section>
  );
}
