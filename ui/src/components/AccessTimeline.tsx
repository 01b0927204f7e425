// A small timeline picture of the access history: one row per organisation, one dot per view,
// so repeat attendances across organisations stand out. Drawn as inline SVG, no chart library.
import { useId } from 'react';
import type { AccessView } from '../backend';

interface Props {
  history: AccessView[];
}

interface Lane {
  key: string;
  name: string;
  times: number[];
}

// In SVG units, which are CSS pixels when the picture is shown at its full width.
const WIDTH = 900;
const LABEL_WIDTH = 300;
const PLOT_LEFT = LABEL_WIDTH + 16;
const PLOT_RIGHT = WIDTH - 14;
const LANE_HEIGHT = 36;
const TOP = 12;
const AXIS_HEIGHT = 38;
const MAX_LABEL = 28;

/** Rows by organisation, the busiest first; accesses whose time cannot be read are left out. */
export function lanesOf(history: AccessView[]): Lane[] {
  const lanes = new Map<string, Lane>();
  for (const entry of history) {
    const time = Date.parse(entry.accessed_at_iso);
    if (Number.isNaN(time)) continue;
    const ods = entry.organisation_ods ?? '';
    const key = ods === '' ? entry.organisation_name : ods;
    const lane = lanes.get(key) ?? { key, name: entry.organisation_name || key, times: [] };
    lane.times.push(time);
    lanes.set(key, lane);
  }
  return [...lanes.values()].sort((a, b) => b.times.length - a.times.length);
}

function shorten(text: string): string {
  return text.length > MAX_LABEL ? `${text.slice(0, MAX_LABEL - 1)}…` : text;
}

export function AccessTimeline({ history }: Props) {
  const titleId = useId();
  const descId = useId();
  const lanes = lanesOf(history);
  const dated = history.filter((entry) => !Number.isNaN(Date.parse(entry.accessed_at_iso)));
  if (lanes.length === 0 || dated.length === 0) return null;

  const times = lanes.flatMap((lane) => lane.times);
  const earliest = Math.min(...times);
  const latest = Math.max(...times);
  const span = latest - earliest;
  const x = (time: number) =>
    span === 0 ? (PLOT_LEFT + PLOT_RIGHT) / 2 : PLOT_LEFT + ((time - earliest) / span) * (PLOT_RIGHT - PLOT_LEFT);

  // The shown (already formatted) times of the oldest and newest views label the axis.
  const byTime = [...dated].sort(
    (a, b) => Date.parse(a.accessed_at_iso) - Date.parse(b.accessed_at_iso),
  );
  const oldest = byTime[0];
  const newest = byTime[byTime.length - 1];
  const height = TOP + lanes.length * LANE_HEIGHT + AXIS_HEIGHT;
  const axisY = TOP + lanes.length * LANE_HEIGHT;
  const organisations = lanes.length === 1 ? '1 organisation' : `${String(lanes.length)} organisations`;
  const views = dated.length === 1 ? '1 view' : `${String(dated.length)} views`;

  return (
    <figure className="app-timeline" data-testid="access-timeline">
      <svg
        className="app-timeline__svg"
        viewBox={`0 0 ${String(WIDTH)} ${String(height)}`}
        role="img"
        aria-labelledby={`${titleId} ${descId}`}
        focusable="false"
      >
        <title id={titleId}>Timeline of views of this record</title>
        <desc id={descId}>
          {views} by {organisations}, from {oldest?.accessed_at} to {newest?.accessed_at}.
        </desc>
        {lanes.map((lane, index) => {
          const y = TOP + index * LANE_HEIGHT + LANE_HEIGHT / 2;
          return (
            <g key={lane.key} className="app-timeline__lane">
              <text className="app-timeline__label" x={0} y={y + 5}>
                {shorten(lane.name)} ({lane.times.length})
              </text>
              <line className="app-timeline__track" x1={PLOT_LEFT} x2={PLOT_RIGHT} y1={y} y2={y} />
              {lane.times.map((time, dot) => (
                <circle key={`${String(time)}-${String(dot)}`} className="app-timeline__dot" cx={x(time)} cy={y} r={7} />
              ))}
            </g>
          );
        })}
        <line className="app-timeline__axis" x1={PLOT_LEFT} x2={PLOT_RIGHT} y1={axisY} y2={axisY} />
        <text className="app-timeline__tick" x={PLOT_LEFT} y={axisY + 26} textAnchor="start">
          {oldest?.accessed_at}
        </text>
        {span > 0 && (
          <text className="app-timeline__tick" x={PLOT_RIGHT} y={axisY + 26} textAnchor="end">
            {newest?.accessed_at}
          </text>
        )}
      </svg>
      <figcaption className="nhsuk-body-s app-timeline__caption">
        Each dot is one view. Each row is one organisation, with its number of views.
      </figcaption>
    </figure>
  );
}
