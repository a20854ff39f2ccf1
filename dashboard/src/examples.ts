/** The project's own manifests, bundled as text: the examples the Wizard and the Builder start from. */
import agentCustom from "../../manifests/agent-custom.ossa.yaml?raw";
import agentDemo from "../../manifests/agent-demo.ossa.yaml?raw";

/** One example manifest. */
export interface ExampleManifest {
  fileName: string;
  text: string;
}

/** The examples, in display order. */
export const EXAMPLE_MANIFESTS: readonly ExampleManifest[] = [
  { fileName: "agent-demo.ossa.yaml", text: agentDemo },
  { fileName: "agent-custom.ossa.yaml", text: agentCustom },
];
