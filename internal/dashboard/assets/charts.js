// The job dashboard's performance charts, drawn with uPlot (vendored, see
// internal/dashboard/package.json) from GET /api/background-jobs/metrics.
import uPlot from "./vendor/uplot/uPlot.esm.js";
import { typeInWords } from "./common.js";

const COLORS = {
  completed: "#15803d",
  failed: "#b91c1c",
  p50: "#1d4ed8",
  p95: "#93b4f5",
};
const CHART_HEIGHT = 200;
const charts = new Map(); // element id → uPlot

// drawCharts draws success rate and throughput per day for the last days,
// and run time and queue wait per job type.
export function drawCharts(metrics, days) {
  const dates = lastDays(days);
  const perDay = new Map(dates.map((d) => [d, { completed: 0, failed: 0 }]));
  for (const row of metrics.series) {
    const day = perDay.get(row.date);
    if (!day) continue;
    day.completed += row.completed;
    day.failed += row.failed;
  }
  const totals = dates.map((d) => perDay.get(d));
  const dayLabels = dates.map((d) => new Date(d + "T12:00:00Z").toLocaleDateString(undefined, { month: "short", day: "numeric" }));
  const dayIndex = dates.map((_, i) => i);

  draw("chart-success", categories(dayLabels, "Day", {
    y: { range: [0, 100], label: "%" },
    series: [{ label: "Success rate", stroke: COLORS.completed, width: 2, points: { show: true, size: 9, fill: COLORS.completed }, spanGaps: true, value: (_, v) => (v == null ? "–" : v.toFixed(1) + "%") }],
  }), [dayIndex, totals.map((t) => (t.completed + t.failed ? (100 * t.completed) / (t.completed + t.failed) : null))]);

  draw("chart-throughput", categories(dayLabels, "Day", {
    series: [
      bar("Completed", COLORS.completed, -1),
      bar("Failed", COLORS.failed, 1),
    ],
  }), [dayIndex, totals.map((t) => t.completed), totals.map((t) => t.failed)]);

  const types = metrics.by_type.filter((row) => row.run_time_ms.count > 0 || row.queue_wait_ms.count > 0);
  const typeLabels = types.map((row) => typeInWords(row.type));
  // Several long names side by side would run into each other: they wrap.
  const typeTicks = typeLabels.map((label) => wrapWords(label, 14));
  const typeIndex = types.map((_, i) => i);
  const seconds = (ms) => ms / 1000;
  for (const [id, field] of [["chart-runtime", "run_time_ms"], ["chart-wait", "queue_wait_ms"]]) {
    draw(id, categories(typeLabels, "Job type", {
      series: [bar("p50", COLORS.p50, -1, "s"), bar("p95", COLORS.p95, 1, "s")],
      ticks: typeTicks,
    }), [typeIndex, types.map((row) => seconds(row[field].p50)), types.map((row) => seconds(row[field].p95))]);
  }
}

// lastDays lists the last n UTC dates, oldest first, as the metrics name them.
function lastDays(n) {
  const today = Date.UTC(new Date().getUTCFullYear(), new Date().getUTCMonth(), new Date().getUTCDate());
  return Array.from({ length: n }, (_, i) => new Date(today - (n - 1 - i) * 86400000).toISOString().slice(0, 10));
}

function bar(label, color, align, unit = "") {
  return {
    label, fill: color, stroke: color, width: 0,
    paths: uPlot.paths.bars({ size: [0.36, 48], align }),
    points: { show: false },
    value: (_, v) => (v == null ? "–" : +v.toFixed(2) + (unit ? " " + unit : "")),
  };
}

// wrapWords breaks a label into lines of about width characters, between words.
function wrapWords(label, width) {
  const lines = [];
  for (const word of label.split(" ")) {
    const last = lines.length - 1;
    if (last >= 0 && lines[last].length + 1 + word.length <= width) lines[last] += " " + word;
    else lines.push(word);
  }
  return lines.join("\n");
}

// categories is a chart whose x axis names things (days, job types) rather
// than measuring time; ticks, when given, are the axis's labels (the legend
// keeps labels).
function categories(labels, name, { series, y = {}, ticks = labels }) {
  return {
    height: CHART_HEIGHT,
    scales: {
      x: { time: false, range: (_, min, max) => [min - 0.8, max + 0.8] },
      y: y.range ? { range: y.range } : { range: (_, min, max) => [0, Math.max(1, max * 1.1)] },
    },
    axes: [
      {
        values: (_, at) => at.map((t) => (Number.isInteger(t) ? ticks[t] ?? "" : "")), grid: { show: false }, gap: 4,
        size: Math.max(50, 20 + 16 * Math.max(...ticks.map((t) => t.split("\n").length))),
      },
      { size: 48, grid: { stroke: "#e5e9ef" } },
    ],
    cursor: { points: { show: false } },
    legend: { live: true },
    series: [{ label: name, value: (_, v) => (v == null ? "–" : labels[v] ?? "–") }, ...series],
  };
}

function draw(id, options, data) {
  const box = document.getElementById(id);
  charts.get(id)?.destroy();
  box.replaceChildren();
  const hasData = data[0].length > 0;
  box.setAttribute("aria-label", describe(box, options, data));
  if (!hasData) return;
  const chart = new uPlot({ ...options, width: Math.max(280, box.clientWidth) }, data, box);
  charts.set(id, chart);
  if (!box.dataset.observed) {
    box.dataset.observed = "true";
    new ResizeObserver(() => charts.get(id)?.setSize({ width: Math.max(280, box.clientWidth), height: CHART_HEIGHT })).observe(box);
  }
}

// describe says in words what a chart shows, for screen readers.
function describe(box, options, data) {
  const caption = box.closest("figure")?.querySelector("figcaption")?.textContent || "Chart";
  if (data[0].length === 0) return caption + ": no data yet.";
  const names = options.series.slice(1).map((s) => s.label).join(", ");
  return `${caption}: ${names}, ${data[0].length} points.`;
}
