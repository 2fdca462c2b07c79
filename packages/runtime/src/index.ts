export { connectDaemon, uploadArchive, type ConnectDaemonOptions } from './daemon-client.ts';
export {
  DaemonError,
  RuntimeError,
  type DaemonConnection,
  type DaemonStream,
  type DriverCapabilities,
  type DevcontainerBuild,
  type ExecResult,
  type Isolation,
  type ProgressListener,
  type RuntimeEvent,
  type StreamOptions,
  type WorkspaceCapacity,
  type WorkspaceResources,
  type WorkspaceRuntime,
  type WorkspaceSpec,
  type WorkspaceState,
  type WorkspaceStats,
  type WorkspaceStatus,
  newDaemonSecret,
} from './runtime.ts';
export {
  LocalRuntime,
  isReachableByWorkspaces,
  localNetworkAvailable,
  type LocalRuntimeOptions,
} from './local/local-runtime.ts';
export {
  DockerRuntime,
  type DockerRuntimeLogger,
  type DockerRuntimeOptions,
} from './docker/docker-runtime.ts';
export {
  buildContentImage,
  buildTemplateImage,
  defaultCacheDir,
  listTemplateNames,
  loadTemplate,
  templateImageState,
  type BuildContentImageOptions,
  type BuildTemplateImageOptions,
  type BuildTemplateImageResult,
  type TemplateImageState,
} from './docker/images.ts';
export { dockerfileStages } from './docker/dockerfile.ts';
export { engineAnswers, openEngine } from './docker/engine.ts';
export {
  KubernetesRuntime,
  type DaemonReach,
  type KubernetesRuntimeOptions,
} from './kubernetes/kubernetes-runtime.ts';
export type { KubernetesPlacement } from './kubernetes/manifests.ts';
// The server loads its kubeconfig with the same client the driver uses.
export { KubeConfig } from '@kubernetes/client-node';
