export {
  assertPublicUrl,
  classifyAddress,
  safeFetch,
  FetchRefusedError,
  type SafeFetchOptions,
  type SafeFetchResult,
} from './net/safe-fetch.ts';
export { historyMessages, renderUserTurn, systemPrompt } from './prompt.ts';
export { DEFAULT_DECISIONS, decide, globMatches } from './policy.ts';
export { describeProviderError, type DescribedFailure } from './provider-errors.ts';
export { completeCode, type CompletionRequest } from './complete.ts';
export {
  languageModel,
  listModels,
  routeProviderWarnings,
  type ProviderConfig,
} from './providers.ts';
export { redactSecrets, redactValue } from './redact.ts';
export {
  runAgent,
  type AgentEvent,
  type ApprovalAnswer,
  type ModelPrice,
  type RunAgentOptions,
  type RunCaps,
  type RunOutcome,
  type ToolCallRecord,
} from './run.ts';
export { BUILTIN_TOOLS } from './tools/index.ts';
export {
  DEFAULT_DISPLAY,
  computer,
  computerSubject,
  computerTool,
  type ComputerInput,
} from './tools/computer.ts';
export {
  ToolError,
  capText,
  defineTool,
  resultText,
  type AgentTool,
  type ToolContext,
  type ToolDaemon,
  type ToolKind,
  type ToolResult,
  type ToolResultWithImage,
  type ToolStream,
} from './tools/tool.ts';
export type { ModelMessage } from 'ai';
export {
  connectMcp,
  flattenContent,
  mcpToolName,
  type ConnectMcpOptions,
  type McpConnection,
  type McpEndpoint,
} from './mcp/mcp-tools.ts';
export { DaemonStdioTransport, type StdioCommand } from './mcp/daemon-stdio-transport.ts';
