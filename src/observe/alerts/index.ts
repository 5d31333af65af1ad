export { startMonitor, intervalFor, type Monitor, type MonitorOptions } from './monitor.js';
export { ALERT_EVENTS, CONDITIONS, type AlertEvent, type Observation } from './conditions.js';
export { evaluate, newTracks, slackBody, stepTrack, type AlertMessage } from './engine.js';
