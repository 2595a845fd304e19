// Renders assets/datasets/people: "People & Body" person emoji from Twemoji (64 px PNGs from
// emoji-datasource-twitter) and Microsoft Fluent Emoji flat (SVG, rasterised with resvg), every
// skin tone, 64×64 on white. Selection comes from emoji-datasource's metadata.
// Usage: node render_people.mjs OUT_DIR
import { Resvg } from '@resvg/resvg-js';
import { copyFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join } from 'node:path';

const require = createRequire(import.meta.url);
const out = process.argv[2];
mkdirSync(out, { recursive: true });

const emoji = require('emoji-datasource/emoji.json');
const twemojiDir = join(dirname(require.resolve('emoji-datasource-twitter/package.json')), 'img/twitter/64');
const fluentDir = join(dirname(require.resolve('fluentui-emoji/package.json')), 'icons/flat');

const SUBCATEGORIES = new Set([
  'person', 'person-role', 'person-gesture', 'person-activity', 'person-sport', 'person-fantasy',
  'person-resting',
]);
const TONES = { '': 'default', '1F3FB': 'light', '1F3FC': 'medium-light', '1F3FD': 'medium', '1F3FE': 'medium-dark', '1F3FF': 'dark' };

const slug = (s) => s.toLowerCase().replace(/[^a-z0-9]+/g, '-').replace(/^-|-$/g, '');
const selected = emoji
  .filter((e) => e.category === 'People & Body' && SUBCATEGORIES.has(e.subcategory))
  // Mirrored duplicates ("… facing right") add nothing a horizontal flip does not.
  .filter((e) => !/facing right/i.test(e.name))
  .sort((a, b) => a.sort_order - b.sort_order);

let twemoji = 0;
let fluent = 0;
let missing = 0;
for (const e of selected) {
  const variants = [['', e]];
  for (const [tone, v] of Object.entries(e.skin_variations ?? {})) {
    if (TONES[tone]) variants.push([tone, v]);
  }
  const name = slug(e.short_name);
  for (const [tone, v] of variants) {
    const toneName = TONES[tone];
    if (v.has_img_twitter && existsSync(join(twemojiDir, v.image))) {
      copyFileSync(join(twemojiDir, v.image), join(out, `twemoji-${name}-${toneName}.png`));
      twemoji++;
    } else {
      missing++;
    }
    const svgPath = join(fluentDir, `${slug(e.name)}-${toneName}.svg`);
    const plainPath = join(fluentDir, `${slug(e.name)}.svg`);
    const path = existsSync(svgPath) ? svgPath : tone === '' && existsSync(plainPath) ? plainPath : null;
    if (path) {
      const png = new Resvg(readFileSync(path), { fitTo: { mode: 'width', value: 64 }, background: '#ffffff' })
        .render()
        .asPng();
      writeFileSync(join(out, `fluent-${name}-${toneName}.png`), png);
      fluent++;
    } else {
      missing++;
    }
  }
}
console.log(`${selected.length} emoji: ${twemoji} Twemoji + ${fluent} Fluent images into ${out} (${missing} variants without art)`);
