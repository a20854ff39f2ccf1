/**
 * A call's request-log entry (written just after the response): waits for it, then shows its timeline, the Clinic's
 * request waterfall, embedded. Used by the Wizard's results.
 */
import { useEffect, useState } from "preact/hooks";
import { api } from "../../api";
import { RequestDetail } from "../clinic/request-detail";

/** The request's logged timeline, once the request log has it. */
export function LoggedTimeline({ requestId, jaegerUiUrl }: { requestId: string; jaegerUiUrl: string | null }) {
  const [ready, setReady] = useState<boolean | undefined>();
  useEffect(() => {
    let stop = false;
    void (async () => {
      for (let i = 0; i < 20 && !stop; i++) {
        const r = await api.gateway.get(`/v1/requests/${encodeURIComponent(requestId)}`);
        if (r.ok) return setReady(true);
        await new Promise((res) => setTimeout(res, 300));
      }
      if (!stop) setReady(false);
    })();
    return () => void (stop = true);
  }, [requestId]);
  if (ready === undefined) return <p class="muted">Waiting for the request log…</p>;
  if (!ready)
    return <p class="muted">The request log has no entry for this request yet; find it later in the Clinic.</p>;
  return <RequestDetail requestId={requestId} jaegerUiUrl={jaegerUiUrl} embedded />;
}
