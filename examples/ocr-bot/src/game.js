// The game the bot watches: a small simulation whose HUD numbers change now and then, as in a
// real game (most consecutive frames show the same HUD), while the scene behind it moves.
import { createCanvas } from '@napi-rs/canvas';

export const FRAME_WIDTH = 640;
export const FRAME_HEIGHT = 360;
/** Where the HUD panel is drawn: the only part of the frame the bot reads with OCR. */
export const HUD_REGION = { x: 0, y: 0, width: 300, height: 78 };

/** A small seeded generator, so that a run can be replayed (`--seed`). */
function mulberry32(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export class Game {
  constructor(seed = 1) {
    this.random = mulberry32(seed);
    this.frame = 0;
    this.hud = { hp: 100, gold: 250, wave: 1, score: 0 };
    this.enemies = Array.from({ length: 6 }, () => ({
      x: this.random() * FRAME_WIDTH,
      y: 100 + this.random() * (FRAME_HEIGHT - 120),
      vx: (this.random() - 0.5) * 14,
      vy: (this.random() - 0.5) * 8,
      radius: 10 + this.random() * 14,
    }));
  }

  /** One frame of game time: enemies move; HP, gold and score change only on some frames. */
  step() {
    const r = this.random;
    const hud = this.hud;
    this.frame++;
    for (const e of this.enemies) {
      e.x += e.vx;
      e.y += e.vy;
      if (e.x < e.radius || e.x > FRAME_WIDTH - e.radius) e.vx = -e.vx;
      if (e.y < 90 + e.radius || e.y > FRAME_HEIGHT - e.radius) e.vy = -e.vy;
    }
    // about one HUD change a second at 8 fps
    if (r() < 0.04) hud.hp = Math.max(0, hud.hp - 1 - Math.floor(r() * 12));
    if (hud.hp === 0 && r() < 0.2) hud.hp = 100; // respawn
    if (r() < 0.05) hud.gold += 5 + Math.floor(r() * 60);
    if (r() < 0.03) hud.score += 10 * (1 + Math.floor(r() * 50));
    if (this.frame % 120 === 0) hud.wave++;
  }
}

/** Draws frames into one reusable canvas (a real game would hand us a screenshot instead). */
export class Renderer {
  constructor() {
    this.canvas = createCanvas(FRAME_WIDTH, FRAME_HEIGHT);
    this.ctx = this.canvas.getContext('2d');
  }

  /** Renders the game's current state; returns the frame's RGBA pixels. */
  render(game) {
    const ctx = this.ctx;
    const { hud } = game;
    // the scene: a sky, a floor with a scrolling grid, and the enemies
    ctx.fillStyle = '#1d3557';
    ctx.fillRect(0, 0, FRAME_WIDTH, FRAME_HEIGHT);
    ctx.fillStyle = '#2a4d3a';
    ctx.fillRect(0, 220, FRAME_WIDTH, FRAME_HEIGHT - 220);
    ctx.strokeStyle = '#3c6e55';
    ctx.lineWidth = 1;
    const scroll = (game.frame * 3) % 40;
    ctx.beginPath();
    for (let x = -scroll; x < FRAME_WIDTH; x += 40) {
      ctx.moveTo(x, 220);
      ctx.lineTo(x - 60, FRAME_HEIGHT);
    }
    ctx.stroke();
    for (const e of game.enemies) {
      ctx.fillStyle = '#e63946';
      ctx.beginPath();
      ctx.arc(e.x, e.y, e.radius, 0, Math.PI * 2);
      ctx.fill();
    }
    // the HUD: white text on a dark panel, top left
    ctx.fillStyle = '#0b0f14';
    ctx.fillRect(HUD_REGION.x, HUD_REGION.y, HUD_REGION.width, HUD_REGION.height);
    ctx.fillStyle = '#ffffff';
    ctx.font = 'bold 22px sans-serif';
    ctx.fillText(`HP ${hud.hp}   GOLD ${hud.gold}`, 12, 32);
    ctx.fillText(`WAVE ${hud.wave}   SCORE ${hud.score}`, 12, 64);
    return ctx.getImageData(0, 0, FRAME_WIDTH, FRAME_HEIGHT).data;
  }
}
