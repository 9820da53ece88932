/**
 * The Kubernetes Events the agent reports about its registration, on its
 * StatefulSet, as real controllers report on the objects they manage: an
 * installer (or `kubectl describe statefulset meta-controlplane`) can then
 * tell a user why a cluster did not register. Building an Event is pure;
 * {@link EventRecorder} posts it and never lets a failure to do so disturb
 * the agent.
 */
import { randomBytes } from "node:crypto";
import type { CoreV1Event } from "@kubernetes/client-node" with { "resolution-mode": "import" };
import { EVENT_COMPONENT, NAMESPACE, STATEFULSET } from "./names";
import { abortable, StoppedError } from "./wait";

/** What happened to the registration, as an Event's type, reason and message. */
export interface AgentEvent {
  type: "Normal" | "Warning";
  reason: "Registered" | "RegistrationRefused" | "RegistrationFailed";
  /** One line for a person; must not hold a credential (it is scrubbed again before posting). */
  message: string;
}

/**
 * Longest message posted. The platform's answers are not bounded in length;
 * an Event is meant to be read in `kubectl describe`.
 */
export const MAX_EVENT_MESSAGE = 1024;

/**
 * The core/v1 Event reporting `event` about the StatefulSet whose UID is
 * `workloadUid`, named like client-go's recorder names its events (the
 * object's name, a dot, a unique suffix).
 */
export function buildEvent(
  workloadUid: string,
  event: AgentEvent,
  now: Date = new Date(),
  suffix: string = randomBytes(8).toString("hex"),
): CoreV1Event {
  const message =
    event.message.length > MAX_EVENT_MESSAGE
      ? `${event.message.slice(0, MAX_EVENT_MESSAGE - 3)}...`
      : event.message;
  return {
    apiVersion: "v1",
    kind: "Event",
    metadata: { name: `${STATEFULSET}.${suffix}`, namespace: NAMESPACE },
    involvedObject: {
      apiVersion: "apps/v1",
      kind: "StatefulSet",
      namespace: NAMESPACE,
      name: STATEFULSET,
      uid: workloadUid,
    },
    type: event.type,
    reason: event.reason,
    message,
    firstTimestamp: now,
    lastTimestamp: now,
    count: 1,
    source: { component: EVENT_COMPONENT },
    reportingComponent: EVENT_COMPONENT,
  };
}

/** What an {@link EventRecorder} works with. */
export interface EventRecorderDeps {
  /** Creates the Event in the cluster (KubeAccess.createEvent). */
  post: (event: CoreV1Event) => Promise<void>;
  /** Removes every credential the agent handled from a text. */
  scrub: (text: string) => string;
  /** Already scrubbed of credentials by the caller. */
  log: (line: string) => void;
  signal: AbortSignal;
}

/** Posts the agent's Events; a failure is logged, never thrown. */
export class EventRecorder {
  constructor(private readonly d: EventRecorderDeps) {}

  /**
   * Posts `event` about the StatefulSet `workloadUid`. Resolves once the API
   * server answered, whatever it answered.
   *
   * @throws StoppedError when the agent stops meanwhile, as the other calls of a pass do.
   */
  async record(workloadUid: string, event: AgentEvent): Promise<void> {
    // Scrubbed before cutting: a cut could leave part of a credential the scrub no longer matches.
    const body = buildEvent(workloadUid, { ...event, message: this.d.scrub(event.message) });
    try {
      await abortable(this.d.post(body), this.d.signal);
    } catch (err) {
      if (err instanceof StoppedError) throw err;
      this.d.log(
        `cannot report Event ${event.reason} (${(err as Error).message}); carrying on without it`,
      );
    }
  }
}
