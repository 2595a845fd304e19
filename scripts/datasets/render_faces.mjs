// Renders assets/datasets/faces: DiceBear "Toon Head" portraits with gentle expressions,
// 64×64 on white, from deterministic seeds. Usage: node render_faces.mjs OUT_DIR [COUNT]
import { createAvatar } from '@dicebear/core';
import { toonHead } from '@dicebear/collection';
import { Resvg } from '@resvg/resvg-js';
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const out = process.argv[2];
const count = Number(process.argv[3] ?? 4000);
mkdirSync(out, { recursive: true });

// The irasutoya look: smiles, happy or closed eyes, friendly brows, rosy and kind.
const gentle = {
  mouth: ['smile', 'laugh'],
  eyes: ['happy', 'humble', 'bow', 'wink'],
  eyebrows: ['happy', 'raised', 'neutral'],
  beardProbability: 15,
  backgroundColor: ['ffffff'],
};

for (let i = 0; i < count; i++) {
  const svg = createAvatar(toonHead, { seed: `hitogata-face-${i}`, ...gentle }).toString();
  const png = new Resvg(svg, { fitTo: { mode: 'width', value: 64 }, background: '#ffffff' })
    .render()
    .asPng();
  writeFileSync(join(out, `face-${String(i).padStart(4, '0')}.png`), png);
}
console.log(`rendered ${count} faces into ${out}`);
