/** A component with a lifetime, started and stopped by whatever owns it. */
export interface Startable {
  start(): Promise<void> | void;
  stop(): Promise<void> | void;
}

export function isStartable(value: unknown): value is Startable {
  return (
    typeof value === 'object' &&
    value !== null &&
    typeof (value as Startable).start === 'function' &&
    typeof (value as Startable).stop === 'function'
  );
}
