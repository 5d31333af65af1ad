import {
  ALERT_EVENTS,
  CONDITIONS,
  type AlertCondition,
  type AlertEvent,
  type AlertsSettings,
  type Memory,
  type Observation,
  type Verdict,
} from './conditions.js';

/**
 * Pure: from one observation to the messages to send. A condition fires once it has held for
 * its hold time; while it keeps holding, it is repeated at most once per repeatMinutes; when it
 * clears after firing, a "resolved" message follows. A condition that clears and comes back
 * within repeatMinutes of its last message is not announced again until that time has passed
 * (a flapping check sends one message, not one per flap).
 */

export interface AlertMessage {
  event: AlertEvent;
  status: 'firing' | 'resolved';
  summary: string;
  instance: string;
  at: string;
  details: Record<string, unknown>;
}

interface Track {
  since: number | null;
  announced: boolean;
  lastFiringAt: number | null;
  memory: Memory;
}

export type Tracks = Map<AlertEvent, Track>;

export const newTracks = (): Tracks =>
  new Map(ALERT_EVENTS.map((e) => [e, { since: null, announced: false, lastFiringAt: null, memory: {} }]));

export function evaluate(tracks: Tracks, o: Observation, s: AlertsSettings, instance: string): AlertMessage[] {
  const out: AlertMessage[] = [];
  for (const event of ALERT_EVENTS) {
    const c: AlertCondition = CONDITIONS[event];
    const t = tracks.get(event)!;
    const v = c.check(o, s, t.memory);
    if (v === undefined) continue; // unknown this time: keep the state
    const status = stepTrack(t, v, o.now, c.holdMs?.(s) ?? 0, s.repeatMinutes * 60_000);
    if (status) out.push(message(event, status, status === 'firing' ? v! : resolvedVerdict(c), instance, o.now));
  }
  return out;
}

/** One condition's state machine; returns the message status to send, if any. */
export function stepTrack(t: Track, v: Verdict | null, now: number, holdMs: number, repeatMs: number): 'firing' | 'resolved' | null {
  if (!v) {
    t.since = null;
    if (!t.announced) return null;
    t.announced = false;
    return 'resolved';
  }
  t.since ??= now;
  if (now - t.since < holdMs) return null;
  if (t.lastFiringAt !== null && now - t.lastFiringAt < repeatMs) return null;
  t.announced = true;
  t.lastFiringAt = now;
  return 'firing';
}

const resolvedVerdict = (c: AlertCondition): Verdict => ({ summary: c.resolved, details: { was: c.title } });

function message(event: AlertEvent, status: 'firing' | 'resolved', v: Verdict, instance: string, now: number): AlertMessage {
  return { event, status, summary: v.summary, instance, at: new Date(now).toISOString(), details: v.details };
}

/** Slack's incoming-webhook body. */
export function slackBody(m: AlertMessage): { text: string } {
  const mark = m.status === 'firing' ? ':rotating_light: FIRING' : ':white_check_mark: RESOLVED';
  return { text: `${mark} [carecycle-sync ${m.instance}] ${m.event}: ${m.summary} (${m.at})` };
}
