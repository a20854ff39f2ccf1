/**
 * The gateway's check of an upload, made by the hosted-agent Worker
 * (`POST /validate` through the `AGENT_HOSTED` binding; shared/manifest/hosted.ts
 * is the check): the manifest loader, with its YAML parser and the OSSA schema,
 * stays out of the gateway's bundle, which every request loads. A Worker that
 * cannot answer is 503 `HOSTED_AGENTS_UNAVAILABLE`: nothing is stored unchecked.
 */
import { ZaharaError } from "../../../shared/errors";
import type { HostedCheck } from "../../../shared/manifest/hosted";
import { HOSTED_BINDING } from "../../../shared/manifest/hosted-names";
import { REQUEST_ID_HEADER } from "../../../shared/request-id";
import { serviceBinding } from "../registry";

/** What is checked. */
export interface UploadCheck {
  text: string;
  name: string;
  mediaType: string;
  unenforced: "error" | "warning";
}

/** How long the check may take. */
const CHECK_TIMEOUT_MS = 5000;

/** Checks `upload` on the hosted-agent Worker. */
export async function checkUpload(env: object, upload: UploadCheck, requestId: string): Promise<HostedCheck> {
  const binding = serviceBinding(env, HOSTED_BINDING);
  if (!binding) {
    throw new ZaharaError("HOSTED_AGENTS_UNAVAILABLE", { message: `No ${HOSTED_BINDING} binding on this gateway` });
  }
  let res: Response;
  try {
    res = await binding.fetch("https://validate.agent.internal/validate", {
      method: "POST",
      headers: { "Content-Type": "application/json", [REQUEST_ID_HEADER]: requestId },
      body: JSON.stringify(upload),
      signal: AbortSignal.timeout(CHECK_TIMEOUT_MS),
    });
  } catch (err) {
    throw new ZaharaError("HOSTED_AGENTS_UNAVAILABLE", {
      message: "The hosted-agent Worker did not answer",
      cause: err,
    });
  }
  if (!res.ok) {
    await res.body?.cancel();
    throw new ZaharaError("HOSTED_AGENTS_UNAVAILABLE", {
      message: `The hosted-agent Worker could not check the manifest (HTTP ${res.status})`,
    });
  }
  return (await res.json()) as HostedCheck;
}
