export { connectDaemon, type ConnectDaemonOptions } from './daemon-client.ts';
export {
  DaemonError,
  RuntimeError,
  type DaemonConnection,
  type DaemonStream,
  type ExecResult,
  type Isolation,
  type ProgressListener,
  type RuntimeEvent,
  type StreamOptions,
  type WorkspaceResources,
  type WorkspaceRuntime,
  type WorkspaceSpec,
  type WorkspaceState,
  type WorkspaceStats,
  type WorkspaceStatus,
} from './runtime.ts';
export {
  LocalRuntime,
  isReachableByWorkspaces,
  type LocalRuntimeOptions,
} from './local/local-runtime.ts';
export {
  DockerRuntime,
  type DockerRuntimeLogger,
  type DockerRuntimeOptions,
} from './docker/docker-runtime.ts';
export {
  buildTemplateImage,
  defaultCacheDir,
  listTemplateNames,
  loadTemplate,
  type BuildTemplateImageOptions,
  type BuildTemplateImageResult,
} from './docker/images.ts';
export { engineAnswers, openEngine } from './docker/engine.ts';
