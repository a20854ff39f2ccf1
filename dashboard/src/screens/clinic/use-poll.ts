/** Polling a loader while the screen is shown: loading, data, error, and a manual refresh. */
import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import type { ApiError, ApiResult } from "../../api";

/** What {@link usePoll} holds. */
export interface PollState<T> {
  data: T | undefined;
  error: ApiError | undefined;
  loading: boolean;
  refresh: () => void;
}

/** Calls `load` now and every `intervalMs` (0 = once); keeps the last good data when a poll fails. */
export function usePoll<T>(
  load: (signal: AbortSignal) => Promise<ApiResult<T>>,
  intervalMs: number,
  deps: unknown[] = [],
): PollState<T> {
  const [data, setData] = useState<T | undefined>(undefined);
  const [error, setError] = useState<ApiError | undefined>(undefined);
  const [loading, setLoading] = useState(true);
  const [tick, setTick] = useState(0);
  const loader = useRef(load);
  loader.current = load;
  useEffect(() => {
    const controller = new AbortController();
    let timer: ReturnType<typeof setTimeout> | undefined;
    const run = async () => {
      const res = await loader.current(controller.signal);
      if (controller.signal.aborted) return;
      setLoading(false);
      if (res.ok) {
        setData(res.data);
        setError(undefined);
      } else {
        setError(res.error);
      }
      if (intervalMs > 0) timer = setTimeout(() => void run(), intervalMs);
    };
    setLoading(true);
    void run();
    return () => {
      controller.abort();
      if (timer !== undefined) clearTimeout(timer);
    };
  }, [intervalMs, tick, ...deps]);
  const refresh = useCallback(() => setTick((n) => n + 1), []);
  return { data, error, loading, refresh };
}
