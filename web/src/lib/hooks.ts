// Small hooks shared by the pages.
import { useCallback, useEffect, useRef, useState } from 'react';
import { ApiError } from './api.ts';

/** Loads data with `load`, exposing value, error and a reload; ignores answers for stale calls. */
export function useLoad<T>(load: () => Promise<T>, deps: unknown[]): { value: T | undefined; error: ApiError | null; loading: boolean; reload(): void; set(v: T): void } {
  const [value, setValue] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | null>(null);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const seq = useRef(0);
  useEffect(() => {
    const mine = ++seq.current;
    setLoading(true);
    load().then(
      (v) => {
        if (mine !== seq.current) return;
        setValue(v);
        setError(null);
        setLoading(false);
      },
      (err: unknown) => {
        if (mine !== seq.current) return;
        setError(err instanceof ApiError ? err : new ApiError(0, 'unexpected', err instanceof Error ? err.message : 'Something went wrong'));
        setLoading(false);
      },
    );
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [...deps, tick]);
  const reload = useCallback(() => setTick((t) => t + 1), []);
  return { value, error, loading, reload, set: setValue };
}

/** Sets the document title for the page ("… · Sealpost"). */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Sealpost` : 'Sealpost';
  }, [title]);
}

/** Turns any thrown value into a sentence for people. */
export function errorText(err: unknown): string {
  if (err instanceof ApiError) return err.message.charAt(0).toUpperCase() + err.message.slice(1);
  if (err instanceof Error) return err.message;
  return 'Something went wrong.';
}
