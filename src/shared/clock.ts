/** Where services read the time; tests pass a clock they can move instead of sleeping. */
export type Clock = () => Date;

/** The real time. */
export const systemClock: Clock = () => new Date();
