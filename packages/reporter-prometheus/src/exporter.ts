import { moduleTags, type LoadLevel, type MetricInfo, type Profiler } from '@loadlight/core';
import { Counter, Gauge, Registry } from 'prom-client';
import { exposedName, exposedType, exposedUnit, msToSeconds } from './names.js';

/** Load levels as numbers: the higher, the heavier. */
export const LEVEL_VALUES: Readonly<Record<LoadLevel, number>> = Object.freeze({ green: 0, yellow: 1, red: 2 });

/** One loadlight metric in a family: where its value comes from and how it is converted. */
interface Member {
  info: MetricInfo;
  /** `{ module }` for a module's metric, else `{}`. */
  labels: Record<string, string>;
  convert: (value: number) => number;
  /** A counter's sum of its per-tick values since the start, in loadlight's unit. */
  total: number;
}

interface Family {
  name: string;
  type: 'gauge' | 'counter';
  /** Whether the family has the `module` label (a module field) or not (one metric). */
  perModule: boolean;
  members: Member[];
  metric: Gauge<string> | Counter<string>;
  /** The HELP text stays the first member's description while every member's agrees. */
  description: string;
}

/**
 * The profiler's metrics in a prom-client Registry of their own. Gauges read the latest sample
 * when scraped (collect callbacks). Counters count since the start: at a scrape, each adds the
 * per-tick values of the rows committed since the previous one (a window of the Store), so a tick
 * costs next to nothing; between rare scrapes they also catch up every half ring, before rows are
 * dropped. Families appear as metrics are declared.
 */
export class Exporter {
  readonly registry = new Registry();
  private readonly families = new Map<string, Family>();
  /** Metric name -> the member exposing it, or null when it was refused (a name clash). */
  private readonly seen = new Map<string, Member | null>();
  private readonly counters: Member[] = [];
  private known = 0;
  /** Rows committed since the start, and since counters last caught up. */
  private rows = 0;
  private rowsSinceCatchUp = 0;
  /** Counters hold the rows up to this time (ms). */
  private countedUntil = Number.NEGATIVE_INFINITY;
  private readonly catchUpEvery: number;

  constructor(
    private readonly profiler: Profiler,
    private readonly prefix: string,
    labels: Record<string, string>,
  ) {
    if (Object.keys(labels).length > 0) this.registry.setDefaultLabels(labels);
    const registers = [this.registry];
    const p = prefix;
    const store = profiler.store;
    this.catchUpEvery = Math.max(1, Math.floor(store.capacity / 2));
    const rows = () => this.rows;
    new Counter({
      name: `${p}samples_total`,
      help: 'Samples the profiler committed since it started',
      registers,
      collect() {
        this.reset();
        this.inc(rows());
      },
    });
    new Gauge({
      name: `${p}last_sample_timestamp_seconds`,
      help: 'Time of the latest sample, which every other value here comes from (seconds since the epoch)',
      registers,
      collect() {
        this.reset();
        const t = store.latestTime();
        if (t === null) this.remove({});
        else this.set(t / 1000);
      },
    });
    new Gauge({
      name: `${p}start_time_seconds`,
      help: 'Time the profiler started (seconds since the epoch)',
      registers,
    }).set(profiler.startedAt / 1000);
    new Gauge({
      name: `${p}session_info`,
      help: 'The profiling session (always 1): its id is the name of its session file',
      labelNames: ['session'],
      registers,
    }).set({ session: profiler.sessionId }, 1);
    new Counter({
      name: `${p}profiler_cpu_seconds_total`,
      help: "On-CPU time of the profiler's own work on the main thread (ticks, rules, reports)",
      registers,
      collect() {
        this.reset();
        this.inc(msToSeconds(profiler.overhead().cpuMs));
      },
    });
    new Gauge({
      name: `${p}profiler_store_bytes`,
      help: 'Bytes the profiler holds for its samples',
      registers,
      collect() {
        this.set(store.bytes);
      },
    });
    new Gauge({
      name: `${p}load_level`,
      help: 'Load level of each subject from the latest evaluation of the rules: 0 green, 1 yellow, 2 red',
      labelNames: ['subject', 'kind'],
      registers,
      collect() {
        this.reset();
        for (const level of profiler.evaluation?.levels ?? []) {
          this.set({ subject: level.subject, kind: level.kind }, LEVEL_VALUES[level.level]);
        }
      },
    });
    new Gauge({
      name: `${p}evaluation_timestamp_seconds`,
      help: 'Time of the sample the latest evaluation of the rules (load levels, alerts) was made on (seconds since the epoch)',
      registers,
      collect() {
        this.reset();
        const t = profiler.evaluation?.t;
        if (t === undefined) this.remove({});
        else this.set(t / 1000);
      },
    });
    new Gauge({
      name: `${p}alert_active`,
      help: 'Alerts pending or firing at the latest evaluation of the rules (always 1 while active)',
      labelNames: ['alert', 'module', 'severity', 'state'],
      registers,
      collect() {
        this.reset();
        for (const alert of profiler.activeAlerts()) {
          const labels: Record<string, string> = { alert: alert.id, severity: alert.severity, state: alert.state };
          if (alert.module !== undefined) labels.module = alert.module;
          this.set(labels, 1);
        }
      },
    });
    // Module name -> its tags, over the metrics exported here (those given a family).
    const tagsOfModules = () => moduleTags(store.catalogue(), (info) => this.seen.get(info.name) !== null);
    new Gauge({
      name: `${p}module_info`,
      help: 'Each profiled module (always 1), with its tags joined by ","',
      labelNames: ['module', 'tags'],
      registers,
      collect() {
        this.reset();
        for (const [module, tags] of tagsOfModules()) this.set({ module, tags: tags.join(',') }, 1);
      },
    });
  }

  /** Makes a family for every metric declared since the last call. Cheap when nothing changed. */
  sync(): void {
    const catalogue = this.profiler.store.catalogue();
    if (catalogue.length === this.known) return;
    for (let i = this.known; i < catalogue.length; i++) this.add(catalogue[i]!);
    this.known = catalogue.length;
  }

  /** A committed row. */
  onSample(): void {
    this.sync();
    this.rows++;
    if (++this.rowsSinceCatchUp >= this.catchUpEvery) this.countUp();
  }

  /** Adds to each counter its values in the rows committed since the last call. */
  countUp(): void {
    const store = this.profiler.store;
    const now = store.latestTime();
    this.rowsSinceCatchUp = 0;
    if (now === null || now === this.countedUntil) return;
    // Rows in (countedUntil, now]: times are whole ms, so half a ms off the edge is exact.
    const seconds = this.countedUntil === Number.NEGATIVE_INFINITY ? Number.POSITIVE_INFINITY : (now - this.countedUntil - 0.5) / 1000;
    for (const member of this.counters) {
      const { sum } = store.window(member.info.name, seconds, now);
      // A counter's values are what happened in each tick: never negative.
      if (sum > 0) member.total += sum;
    }
    this.countedUntil = now;
  }

  /** The exposition (Prometheus text format 0.0.4). */
  metrics(): Promise<string> {
    this.sync();
    return this.registry.metrics();
  }

  private add(info: MetricInfo): void {
    if (this.seen.has(info.name)) return;
    const name = `${this.prefix}${exposedName(info)}`;
    const type = exposedType(info);
    const perModule = info.module !== undefined;
    let family = this.families.get(name);
    const taken = this.registry.getSingleMetric(name) !== undefined;
    if ((family && (family.type !== type || !family.perModule || !perModule)) || (!family && taken)) {
      this.seen.set(info.name, null);
      const by = family ? `"${family.members[0]!.info.name}"` : "one of the reporter's own series";
      this.profiler.warn(`prometheus: metric "${info.name}" is not exposed: its name ${name} is already used by ${by}`);
      return;
    }
    const member: Member = {
      info,
      labels: info.module ? { module: info.module.name } : {},
      convert: exposedUnit(info.unit).convert,
      total: 0,
    };
    this.seen.set(info.name, member);
    if (!family) {
      family = this.createFamily(name, type, perModule, info);
      this.families.set(name, family);
    } else if (family.description !== info.description) {
      // Modules of different sources (a profiled function, a watched process) describe the field
      // differently: the HELP line then says what they share. (prom-client keeps `help` as a
      // plain property, read at each scrape; its types do not declare it.)
      (family.metric as unknown as { help: string }).help = this.genericHelp(info);
    }
    family.members.push(member);
    if (type === 'counter') this.counters.push(member);
  }

  private createFamily(name: string, type: 'gauge' | 'counter', perModule: boolean, first: MetricInfo): Family {
    const help = `${first.description} (${this.source(first)})`;
    const labelNames = perModule ? ['module'] : [];
    const registers = [this.registry];
    const family: Family = { name, type, perModule, members: [], metric: undefined as never, description: first.description };
    if (type === 'counter') {
      const countUp = () => this.countUp();
      family.metric = new Counter({
        name,
        help,
        labelNames,
        registers,
        collect() {
          countUp(); // the first counter of a scrape catches every counter up; the others find nothing new
          this.reset();
          // Summed in loadlight's unit, converted once: no rounding noise piles up.
          for (const member of family.members) this.inc(member.labels, member.convert(member.total));
        },
      });
      return family;
    }
    const read = (member: Member) => this.gaugeValue(member);
    family.metric = new Gauge({
      name,
      help,
      labelNames,
      registers,
      collect() {
        this.reset();
        for (const member of family.members) {
          const value = read(member);
          if (value !== null) this.set(member.labels, value);
          else if (!perModule) this.remove({}); // an unlabelled gauge resets to 0: missing is no sample
        }
      },
    });
    return family;
  }

  /** The latest sample of a gauge, converted; a derived metric is its aggregate over the rules window. */
  private gaugeValue(member: Member): number | null {
    const { info } = member;
    const store = this.profiler.store;
    let value: number | null;
    if (info.derivedFrom) {
      value = store.windowValue(info.name, this.profiler.config.windowSeconds, undefined, info.aggregate ?? 'mean');
    } else {
      value = store.latest(info.name);
    }
    return value === null || !Number.isFinite(value) ? null : member.convert(value);
  }

  private source(info: MetricInfo): string {
    const name = info.module ? `module.<module>.${info.module.field}` : info.name;
    const unit = exposedUnit(info.unit);
    const converted = unit.scaled ? `, ${info.unit} exposed in ${unit.suffix.replace(/_.*/, '')}` : '';
    const derived = info.derivedFrom ? `, ${info.aggregate ?? 'mean'} of ${info.derivedFrom} over the rules window` : '';
    const summed = exposedType(info) === 'counter' ? '; per tick there, summed here since the profiler started' : '';
    return `loadlight ${name}${converted}${derived}${summed}`;
  }

  private genericHelp(info: MetricInfo): string {
    return `Field ${info.module!.field} of each module, in ${info.unit} (${this.source(info)})`;
  }
}
