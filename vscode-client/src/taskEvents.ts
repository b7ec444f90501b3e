// The sidecar's task events (`clineBridge/taskEvent`): Cline's task as the bridge follows it from
// Cline's records. The panel shows the task itself; the log gets one line per step worth a line (not
// the streamed text), so a bug report shows what the bridge saw. Pure, and checked under node tests.
import { ClientNotifications } from "./constants";
import type { Logger } from "./log";

/** The slice of the language client that receives notifications from the sidecar. */
export interface NotificationReceiver {
  onNotification(method: string, handler: (params: TaskEvent) => void): unknown;
}

/** A task event as docs/protocol.md defines it; read defensively, as everything from the wire. */
export interface TaskEvent {
  readonly taskId?: unknown;
  readonly kind?: unknown;
  readonly turn?: unknown;
  readonly title?: unknown;
  readonly status?: unknown;
  readonly outcome?: unknown;
  readonly source?: unknown;
  readonly stopReason?: unknown;
  readonly message?: unknown;
}

/** One log line for `event`, or undefined for the events not worth one (streamed text, thoughts). */
export function describeTaskEvent(event: TaskEvent): string | undefined {
  const task = `Cline task ${text(event.taskId)}`;
  switch (event.kind) {
    case "started":
      return `${task}: started`;
    case "turnStart":
      return `${task}: turn ${text(event.turn)} started`;
    case "toolCall":
      return `${task}: ${text(event.title)} (${text(event.status)})`;
    case "approval":
      return `${task}: waiting for approval of ${text(event.title)}`;
    case "approvalResolved":
      return `${task}: approval ${text(event.outcome)} (${text(event.source)})`;
    case "turnEnd":
      return `${task}: turn ${text(event.turn)} ended (${text(event.stopReason)})`;
    case "error":
      return `${task}: ${text(event.message)}`;
    default:
      return undefined;
  }
}

export function logTaskEvents(client: NotificationReceiver, log: Logger): void {
  client.onNotification(ClientNotifications.taskEvent, (event) => {
    const line = describeTaskEvent(event ?? {});
    if (line !== undefined) {
      log.info(line);
    }
  });
}

/** A field as one short line of text: the wire may hold anything. */
function text(value: unknown): string {
  const shown = typeof value === "string" || typeof value === "number" ? String(value) : "?";
  const line = shown.replace(/\s+/g, " ");
  return line.length > 200 ? `${line.slice(0, 199)}…` : line;
}
