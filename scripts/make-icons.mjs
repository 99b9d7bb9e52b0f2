// Draws the app icons (a stylised split waveform) into PNGs with no image
// library: run `node scripts/make-icons.mjs` after changing the design.
import { deflateSync } from 'node:zlib';
import { writeFileSync } from 'node:fs';

const crcTable = Array.from({ length: 256 }, (_, n) => {
  let c = n;
  for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
  return c >>> 0;
});
const crc = (buf) => {
  let c = 0xffffffff;
  for (const b of buf) c = crcTable[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};
const chunk = (type, data) => {
  const out = Buffer.alloc(12 + data.length);
  out.writeUInt32BE(data.length, 0);
  out.write(type, 4, 'ascii');
  data.copy(out, 8);
  out.writeUInt32BE(crc(out.subarray(4, 8 + data.length)), 8 + data.length);
  return out;
};

function icon(size, maskable) {
  const px = Buffer.alloc(size * (size * 4 + 1));
  const bg = [16, 20, 24];
  const colors = [[76, 201, 240], [247, 37, 133]];
  const pad = maskable ? 0.2 : 0.08;
  const radius = maskable ? 0 : size * 0.18;
  for (let y = 0; y < size; y++) {
    px[y * (size * 4 + 1)] = 0;
    for (let x = 0; x < size; x++) {
      const o = y * (size * 4 + 1) + 1 + x * 4;
      // rounded square background (full bleed when maskable)
      const dx = Math.max(radius - x, x - (size - 1 - radius), 0);
      const dy = Math.max(radius - y, y - (size - 1 - radius), 0);
      const inside = radius === 0 || dx * dx + dy * dy <= radius * radius;
      let rgb = bg;
      const u = (x / size - pad) / (1 - 2 * pad);
      const v = y / size;
      if (u >= 0 && u <= 1) {
        const bar = Math.floor(u * 12);
        const inBar = (u * 12) % 1 < 0.6;
        const h = 0.12 + 0.26 * Math.abs(Math.sin(bar * 1.7 + 0.5));
        const lane = v < 0.5 ? 0 : 1;
        const centre = lane === 0 ? 0.32 : 0.68;
        if (inBar && Math.abs(v - centre) < h * (lane === 0 ? 1 : 0.8) * 0.5) rgb = colors[lane];
      }
      px[o] = rgb[0];
      px[o + 1] = rgb[1];
      px[o + 2] = rgb[2];
      px[o + 3] = inside ? 255 : 0;
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(size, 0);
  ihdr.writeUInt32BE(size, 4);
  ihdr[8] = 8;
  ihdr[9] = 6;
  return Buffer.concat([Buffer.from([137, 80, 78, 71, 13, 10, 26, 10]), chunk('IHDR', ihdr), chunk('IDAT', deflateSync(px, { level: 9 })), chunk('IEND', Buffer.alloc(0))]);
}

writeFileSync('public/icons/icon-192.png', icon(192, false));
writeFileSync('public/icons/icon-512.png', icon(512, false));
writeFileSync('public/icons/icon-maskable-512.png', icon(512, true));
