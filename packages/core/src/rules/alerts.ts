import type { ActiveAlert, AlertSeverity, AlertTransition, Evidence } from '../types.js';

/**
 * What the rules said about one alert key at one evaluation. The message and the evidence are
 * built only when a transition or the alert's state needs them (most evaluations of most alerts
 * raise nothing): `step()` calls them synchronously, while this evaluation's facts are current.
 */
export interface AlertObservation {
  key: string;
  id: string;
  module?: string;
  severity: AlertSeverity;
  /** The message filled from this evaluation's facts (called only when `raise`). */
  message: () => string;
  /** The raise conditions hold. */
  raise: boolean;
  /** The clear conditions hold (`clearWhen`, or the raise conditions not holding). */
  clear: boolean;
  forMs: number;
  keepFiringForMs: number;
  /** The evidence of the raise (called only when `raise`). */
  raiseEvidence: () => Evidence;
  /** The evidence of a resolution (called only when the alert resolves). */
  clearEvidence: () => Evidence;
}

interface AlertState {
  key: string;
  id: string;
  module?: string;
  severity: AlertSeverity;
  message: string;
  state: 'pending' | 'firing';
  since: number;
  /** When the clear condition started to hold while firing (keepFiringFor counts from here). */
  clearingSince: number | null;
  evidence: Evidence | null;
}

/**
 * Alert lifecycle with Prometheus's `for` / `keep_firing_for` and Netdata's raise/clear
 * hysteresis: inactive -> pending (raise holds) -> firing (after `for`) -> resolved (the clear
 * held for `keepFiringFor`). Between the raise and clear thresholds a firing alert stays firing,
 * so a value wandering between them does not flap. A pending alert whose raise stops holding is
 * dropped without a transition: it never fired.
 */
export class AlertTracker {
  private readonly states = new Map<string, AlertState>();

  /** Advances every alert to time `t`; returns the transitions, each reported once. */
  step(t: number, observations: ReadonlyMap<string, AlertObservation>): AlertTransition[] {
    const transitions: AlertTransition[] = [];
    const emit = (state: AlertState, to: AlertTransition['state'], evidence: Evidence | null) => {
      const transition: AlertTransition = { key: state.key, id: state.id, state: to, severity: state.severity, message: state.message, t, evidence };
      if (state.module !== undefined) transition.module = state.module;
      transitions.push(transition);
    };
    for (const [key, seen] of observations) {
      let state = this.states.get(key);
      if (!state) {
        if (!seen.raise) continue;
        const evidence = seen.raiseEvidence();
        state = {
          key,
          id: seen.id,
          severity: seen.severity,
          message: seen.message(),
          state: seen.forMs > 0 ? 'pending' : 'firing',
          since: t,
          clearingSince: null,
          evidence,
        };
        if (seen.module !== undefined) state.module = seen.module;
        this.states.set(key, state);
        emit(state, state.state, evidence);
        continue;
      }
      if (seen.raise) {
        state.severity = seen.severity;
        state.message = seen.message();
        state.evidence = seen.raiseEvidence();
      }
      if (state.state === 'pending') {
        if (!seen.raise) this.states.delete(key);
        else if (t - state.since >= seen.forMs) {
          state.state = 'firing';
          state.since = t;
          emit(state, 'firing', state.evidence);
        }
        continue;
      }
      if (!seen.clear) {
        state.clearingSince = null;
        continue;
      }
      state.clearingSince ??= t;
      if (t - state.clearingSince >= seen.keepFiringForMs) {
        this.states.delete(key);
        emit(state, 'resolved', seen.clearEvidence());
      }
    }
    // The rule was removed, or no longer runs (its plugin or module went away).
    for (const [key, state] of this.states) {
      if (observations.has(key)) continue;
      this.states.delete(key);
      if (state.state === 'firing') emit(state, 'resolved', null);
    }
    return transitions;
  }

  active(): ActiveAlert[] {
    const out: ActiveAlert[] = [];
    for (const state of this.states.values()) {
      const alert: ActiveAlert = {
        key: state.key,
        id: state.id,
        state: state.state,
        severity: state.severity,
        message: state.message,
        since: state.since,
        evidence: state.evidence,
      };
      if (state.module !== undefined) alert.module = state.module;
      out.push(alert);
    }
    return out;
  }
}
