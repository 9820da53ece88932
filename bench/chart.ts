/**
 * `preview.svg`: no-change preview seconds against fleet size, one line per configuration
 * (latency and engine setting), solid for connections, dashed for trivial resources.
 * @module
 */

import type { PreviewPoint } from "./results";

const W = 820;
const H = 440;
const M = { left: 60, right: 280, top: 40, bottom: 50 };
const COLORS = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b"];

const esc = (s: string) => s.replace(/&/g, "&amp;").replace(/</g, "&lt;");

/** A round axis maximum at or above `max`. */
function niceMax(max: number): number {
  const step = 10 ** Math.floor(Math.log10(Math.max(max, 1)));
  return Math.ceil(max / step) * step;
}

/** The chart of `points` as an SVG document. */
export function previewChart(points: readonly PreviewPoint[], title: string): string {
  const sizes = [...new Set(points.map((p) => p.size))].sort((a, b) => a - b);
  const xMax = Math.max(...sizes);
  const yMax = niceMax(Math.max(...points.map((p) => p.seconds.median)));
  const x = (n: number) => M.left + ((n - 0) / xMax) * (W - M.left - M.right);
  const y = (s: number) => H - M.bottom - (s / yMax) * (H - M.top - M.bottom);
  const parts: string[] = [];
  for (let i = 0; i <= 5; i++) {
    const v = (yMax * i) / 5;
    parts.push(
      `<line x1="${M.left}" x2="${W - M.right}" y1="${y(v)}" y2="${y(v)}" stroke="#ddd"/>`,
      `<text x="${M.left - 8}" y="${y(v) + 4}" text-anchor="end">${+v.toFixed(1)}</text>`,
    );
  }
  for (const n of sizes) {
    parts.push(`<text x="${x(n)}" y="${H - M.bottom + 18}" text-anchor="middle">${n}</text>`);
  }
  const configs = [...new Set(points.map((p) => `${p.latencyMs} ms, ${p.engine}`))];
  configs.forEach((config, i) => {
    for (const kind of ["connections", "trivial"] as const) {
      const line = points
        .filter((p) => `${p.latencyMs} ms, ${p.engine}` === config && p.kind === kind)
        .sort((a, b) => a.size - b.size);
      const d = line.map((p) => `${x(p.size).toFixed(1)},${y(p.seconds.median).toFixed(1)}`);
      const color = COLORS[i % COLORS.length]!;
      const dash = kind === "trivial" ? ' stroke-dasharray="6 4"' : "";
      parts.push(
        `<polyline fill="none" stroke="${color}" stroke-width="2"${dash} points="${d.join(" ")}"/>`,
      );
      for (const p of line) {
        parts.push(
          `<circle cx="${x(p.size).toFixed(1)}" cy="${y(p.seconds.median).toFixed(1)}" r="3" fill="${color}"/>`,
        );
      }
      const ly = M.top + 10 + (i * 2 + (kind === "trivial" ? 1 : 0)) * 20;
      parts.push(
        `<line x1="${W - M.right + 15}" x2="${W - M.right + 45}" y1="${ly}" y2="${ly}" stroke="${color}" stroke-width="2"${dash}/>`,
        `<text x="${W - M.right + 52}" y="${ly + 4}">${esc(`${config}, ${kind}`)}</text>`,
      );
    }
  });
  return [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="sans-serif" font-size="12">`,
    `<rect width="${W}" height="${H}" fill="white"/>`,
    `<text x="${M.left}" y="22" font-size="14" font-weight="bold">${esc(title)}</text>`,
    `<line x1="${M.left}" x2="${M.left}" y1="${M.top}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<line x1="${M.left}" x2="${W - M.right}" y1="${H - M.bottom}" y2="${H - M.bottom}" stroke="#333"/>`,
    `<text x="${(M.left + W - M.right) / 2}" y="${H - 12}" text-anchor="middle">fleet size (resources in the stack)</text>`,
    `<text transform="translate(16 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">no-change preview, median seconds</text>`,
    ...parts,
    "</svg>",
    "",
  ].join("\n");
}
